"""Training time of a large Rasa project: 150 intents, 15,000 examples, what `helpline train` does.

    python bench/nlu_train_time.py [--keep DIR]

Builds a Rasa 3.x project in a temporary folder (never in the repository) from
the public datasets in ``../shared/data``: the 77 BANKING77 intents with all
their examples (train and test CSVs, 13,083), 73 StackFAQ threads as further
intents (each thread's question and its user-written rephrasings), and, to
reach 15,000 examples, polite variants ("hi, ...", "..., thanks") of BANKING77
examples. The domain has a response per intent, one rule per intent and 150
two-intent stories. Then it loads, validates and trains the project the way
`helpline train` does, in this process, and reports each stage's seconds
(training threads: every core, or ``$HELPLINE_TRAIN_THREADS``).
Because the 2-core box is shared, it also reports how busy the box was with
other work during the run (average cores used by other processes, from
/proc/stat less this process's CPU time) and the CPU seconds training used
(with one thread, about the wall time the same run takes on an idle core).
Writes ``bench/results/nlu_train_time.json``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import SHARED_DATA, write_result  # noqa: E402
from bot.model_archive import train  # noqa: E402
from bot.nlu.embedder import get_embedder  # noqa: E402
from bot.nlu.minilm import TRAIN_THREADS_ENV, resolve_train_threads  # noqa: E402
from bot.training_data.project import load_project  # noqa: E402
from bot.validation import validate_project  # noqa: E402

N_INTENTS = 150
N_EXAMPLES = 15_000
SEED = 150
PIPELINE = [{"name": "WhitespaceTokenizer"}, {"name": "RegexFeaturizer"}, {"name": "CountVectorsFeaturizer"},
            {"name": "DIETClassifier"}, {"name": "EntitySynonymMapper"},
            {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1}]
POLICIES = [{"name": "MemoizationPolicy"}, {"name": "RulePolicy"}, {"name": "TEDPolicy", "max_history": 5}]
VARIANTS = ["hi, {}", "hello, {}", "{}, thanks", "{} please", "excuse me, {}", "{}, thank you"]


def clean(text: str) -> str:
    """One line of plain text: no markup Rasa would read as entity annotations, no extra spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>|[\[\]{}()\"]", " ", text)).strip()


def banking_examples() -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {}
    for name in ("train.csv", "test.csv"):
        with (SHARED_DATA / "banking77" / "polyai_original" / name).open(newline="") as f:
            for row in csv.DictReader(f):
                examples.setdefault(row["category"], []).append(clean(row["text"]))
    return examples


def stackfaq_examples(n_threads: int) -> dict[str, list[str]]:
    threads = json.loads((SHARED_DATA / "stackfaq" / "stackExchange-FAQ.json").read_text())["root"]["qapair"]
    examples = {}
    for index, thread in enumerate(threads[:n_threads]):
        texts = [clean(t) for t in [thread["question"], *thread["rephr"]]]
        examples[f"faq_{index:03d}"] = [t for t in texts if len(t) > 3]
    return examples


def build_examples() -> dict[str, list[str]]:
    """150 intents, exactly 15,000 distinct examples (see the module docstring)."""
    banking = banking_examples()
    examples = {**banking, **stackfaq_examples(N_INTENTS - len(banking))}
    seen: set[str] = set()
    for intent in examples:
        examples[intent] = [t for t in examples[intent] if t and not (t.lower() in seen or seen.add(t.lower()))]
    rng = np.random.default_rng(SEED)
    pool = [(intent, text) for intent in sorted(banking) for text in examples[intent]]
    while sum(map(len, examples.values())) < N_EXAMPLES:
        intent, text = pool[rng.integers(len(pool))]
        variant = VARIANTS[rng.integers(len(VARIANTS))].format(text[0].lower() + text[1:])
        if variant.lower() not in seen:
            seen.add(variant.lower())
            examples[intent].append(variant)
    return examples


def write_project(folder: Path, examples: dict[str, list[str]]) -> None:
    intents = sorted(examples)
    rng = np.random.default_rng(SEED)
    (folder / "data").mkdir(parents=True)

    def dump(path: str, data: dict) -> None:
        (folder / path).write_text(yaml.safe_dump(data, sort_keys=False, width=1000))

    dump("config.yml", {"recipe": "default.v1", "language": "en", "pipeline": PIPELINE, "policies": POLICIES})
    dump("domain.yml", {"version": "3.1", "intents": intents,
                        "responses": {f"utter_{i}": [{"text": f"Answer about {i.replace('_', ' ')}."}]
                                      for i in intents}})
    dump("data/nlu.yml", {"version": "3.1", "nlu": [
        {"intent": i, "examples": "".join(f"- {text}\n" for text in examples[i])} for i in intents]})
    dump("data/rules.yml", {"version": "3.1", "rules": [
        {"rule": f"answer {i}", "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]})
    pairs = [(intents[a], intents[b]) for a, b in zip(rng.permutation(len(intents)), rng.permutation(len(intents)))]
    dump("data/stories.yml", {"version": "3.1", "stories": [
        {"story": f"{a} then {b}", "steps": [{"intent": a}, {"action": f"utter_{a}"},
                                               {"intent": b}, {"action": f"utter_{b}"}]} for a, b in pairs]})


class BoxLoad:
    """Average cores used by other processes between start() and stop(), from /proc/stat."""

    def start(self) -> None:
        self._busy, self._own, self._wall = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()

    def stop(self) -> float:
        wall = time.perf_counter() - self._wall
        others = (_busy_seconds() - self._busy) - (_own_cpu_seconds() - self._own)
        return round(max(0.0, others) / wall, 2)


def _busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="write the project into this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="helpline-bench-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp) / "project"
        examples = build_examples()
        write_project(folder, examples)
        started = time.perf_counter()
        get_embedder()  # loading the base model is a process start-up cost, reported on its own
        model_load = time.perf_counter() - started
        load = BoxLoad()
        load.start()
        started = time.perf_counter()
        project = load_project(folder)
        report = validate_project(project)
        validate = time.perf_counter() - started
        stages: dict[str, float] = {}  # when each stage was first reported

        def progress(stage: str, done: int, total: int) -> None:
            name = stage.split(":")[0] if stage.startswith("dialogue") else stage
            if name not in stages:
                stages[name] = time.perf_counter() - started
                print(f"{stages[name]:7.1f} s  {name}", file=sys.stderr, flush=True)

        started, cpu_started = time.perf_counter(), _own_cpu_seconds()
        train(project, folder / "models", progress)
        train_seconds = time.perf_counter() - started
        train_cpu_seconds = _own_cpu_seconds() - cpu_started
        other_cores = load.stop()
    names = list(stages)
    ends = [*(stages[name] for name in names[1:]), train_seconds]
    stage_seconds = {name: round(end - stages[name], 1) for name, end in zip(names, ends) if name != "done"}
    result = {"train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(train_cpu_seconds, 1),
              "validate_seconds": round(validate, 1),
              "total_seconds": round(train_seconds + validate, 1), "model_load_seconds": round(model_load, 1),
              "stages": stage_seconds, "intents": len(examples), "examples": sum(map(len, examples.values())),
              "validation_errors": len(report.errors), "other_load_cores": other_cores,
              "train_threads": resolve_train_threads(),
              "command": (f"{TRAIN_THREADS_ENV}={os.environ[TRAIN_THREADS_ENV]} " if os.environ.get(TRAIN_THREADS_ENV)
                          else "") + "python bench/nlu_train_time.py"}
    path = write_result("nlu_train_time.json", result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
