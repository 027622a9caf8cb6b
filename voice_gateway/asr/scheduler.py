"""When recognition runs: decodes on threads of their own, and early guesses only when they are free.

A decode (Whisper's encoder and decoder over a whole utterance) holds a CPU core for a few hundred
milliseconds. Run on asyncio's default thread pool, decodes waiting for the engine's one model
filled that pool, and the short jobs that share it (the NLU parse, tracker and call-record reads
and writes, speech synthesis) queued behind them: every call slowed down at once. Decodes
therefore run on a pool of their own, sized to what the engine can decode at the same time.

Speculative recognition (recognising what the caller said so far while the end-of-turn silence
runs) makes a quiet box answer sooner, but a caller who pauses three times costs three extra
decodes, and under load those extra decodes delay every other caller's real one. A speculation
is therefore only started when no decode is queued or running: it uses spare time and never
takes it from a finished turn.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class RecognitionScheduler:
    def __init__(self, decoders: int = 1):
        self.decoders = decoders
        self._pool = ThreadPoolExecutor(decoders, thread_name_prefix="asr-decode")
        self.in_flight = 0  # decodes queued or running
        self.speculations = self.speculations_skipped = 0

    async def decode(self, work: Callable[[], T]) -> T:
        """Run one decode on the recognition threads (the caller's log context goes with it)."""
        self.in_flight += 1
        try:
            context = contextvars.copy_context()
            return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(context.run, work))
        finally:
            self.in_flight -= 1

    def speculate(self, work: Callable[[], T]) -> asyncio.Future | None:
        """Start an early decode if every decoder is idle; None (and no work) otherwise."""
        if self.in_flight >= self.decoders:
            self.speculations_skipped += 1
            return None
        self.speculations += 1
        return asyncio.ensure_future(self.decode(work))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
