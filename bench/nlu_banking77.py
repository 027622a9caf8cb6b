"""BANKING77 benchmark of Helpline's intent classifier.

    python bench/nlu_banking77.py [--shots full|10|both] [--valid]

``full``: the PolyAI train.csv (10,003 examples) -> test.csv (3,080).
``10``: the 10-shot subset of the DNNC re-split (770 examples) -> its test set.
``--valid`` evaluates on the DNNC validation split instead of test (for tuning;
the full-data run then trains on the DNNC train split). Results go to
``bench/results/nlu_banking77{,_10shot}.json`` (test runs only) and a markdown
table row is printed. Data is read from ``../shared/data`` and never copied.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import SHARED_DATA, write_result  # noqa: E402
from bot.nlu.embedder import get_embedder  # noqa: E402
from bot.nlu.minilm import resolve_train_threads  # noqa: E402
from bot.nlu.intent_classifier import IntentClassifier  # noqa: E402
from bot.progress import StageProgress  # noqa: E402

DATA = SHARED_DATA / "banking77"
LATENCY_SAMPLES = 300
WARMUP = 20


def read_csv(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def read_split(name: str) -> tuple[list[str], list[str]]:
    folder = DATA / "dnnc_split_train_valid_test" / name
    return ((folder / "seq.in").read_text().splitlines(), (folder / "label").read_text().splitlines())


def load_data(shots: str, valid: bool):
    """(train texts, train labels, eval texts, eval labels) for one setting."""
    if valid:
        train = read_split("train" if shots == "full" else "train_10")
        return (*train, *read_split("valid"))
    if shots == "full":
        original = DATA / "polyai_original"
        return (*read_csv(original / "train.csv"), *read_csv(original / "test.csv"))
    return (*read_split("train_10"), *read_split("test"))


def parse_latency(classifier: IntentClassifier, texts: list[str]) -> tuple[float, float]:
    """p50/p95 ms of predict() on single sentences, embedding included, after a warm-up."""
    for text in texts[:WARMUP]:
        classifier.predict(text)
    times = []
    for text in texts[:LATENCY_SAMPLES]:
        start = time.perf_counter()
        classifier.predict(text)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def run(shots: str, valid: bool, train_threads: int | None = None) -> dict:
    train_x, train_y, test_x, test_y = load_data(shots, valid)
    get_embedder()  # model loading is a process start-up cost, not training
    classifier = IntentClassifier(train_threads=train_threads)
    progress = StageProgress()
    start = time.perf_counter()
    classifier.train(train_x, train_y, progress=progress)
    train_seconds = time.perf_counter() - start
    progress.close()
    predicted = [ranking[0][0] for ranking in tqdm(classifier.predict_batch(test_x), desc="evaluate", leave=False)]
    p50, p95 = parse_latency(classifier, test_x)
    return {"accuracy": round(float(np.mean([p == g for p, g in zip(predicted, test_y)])), 4),
            "macro_f1": round(float(f1_score(test_y, predicted, average="macro")), 4),
            "train_seconds": round(train_seconds, 1), "parse_p50_ms": round(p50, 2), "parse_p95_ms": round(p95, 2),
            "n_train": len(train_x), "n_test": len(test_x), "eval_split": "valid" if valid else "test",
            "train_threads": resolve_train_threads(classifier.config.train_threads),
            "command": "python bench/nlu_banking77.py --shots " + shots + (" --valid" if valid else "")
            + (f" --train-threads {train_threads}" if train_threads else "")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", choices=["full", "10", "both"], default="both")
    parser.add_argument("--valid", action="store_true", help="evaluate on the DNNC valid split (tuning)")
    parser.add_argument("--train-threads", type=int, help="torch threads for training (default: all cores; "
                        "1 is much faster on a box other work keeps busy)")
    args = parser.parse_args()
    print("| setting | accuracy | macro-F1 | train s | parse p50 ms | parse p95 ms |")
    print("|---|---|---|---|---|---|")
    for shots in (["full", "10"] if args.shots == "both" else [args.shots]):
        result = run(shots, args.valid, args.train_threads)
        if not args.valid:
            write_result("nlu_banking77.json" if shots == "full" else "nlu_banking77_10shot.json", result)
        setting = f"BANKING77 {'full' if shots == 'full' else '10-shot'} ({result['eval_split']})"
        print(f"| {setting} | {result['accuracy']:.4f} | {result['macro_f1']:.4f} | {result['train_seconds']:.1f} "
              f"| {result['parse_p50_ms']:.1f} | {result['parse_p95_ms']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
