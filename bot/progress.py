"""Progress display for long operations (training, indexing, benchmarks).

Components report ``progress(stage, done, total)``; this shows a bar per
counted stage and a line for the others, on stderr so it never mixes with output.
"""
from __future__ import annotations

import sys

from tqdm import tqdm


class StageProgress:
    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            if total > 1:
                self.bar = tqdm(total=total, desc=stage, unit="step", file=sys.stderr, leave=False)
            else:
                print(f"  {stage}", file=sys.stderr, flush=True)
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
