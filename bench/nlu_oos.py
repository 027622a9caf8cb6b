"""Out-of-scope detection on BANKING77: intents the bot was never trained on must fall back.

    python bench/nlu_oos.py

Ten of the 77 intents (drawn with a fixed seed, listed in the result) are held
out of training and stand for "unknown" requests. The classifier trains on the
other 67 intents' examples of the DNNC train split. Its top confidence is what
the FallbackClassifier compares with its ``threshold`` (``ambiguity_threshold``
0 here): below it the message is out of scope. The threshold is chosen on the
DNNC valid split (in-scope examples and the held-out intents' examples), as the
one that maximises the mean of in-scope accuracy and OOS recall there; the test
split is only scored with it, never used to choose anything.

Reported on the test split:

* ``in_scope_accuracy``: of the test examples of the 67 trained intents, the share
  given their correct intent; one that falls back counts as wrong.
* ``oos_recall``: of the held-out intents' test examples, the share that falls back.
* ``oos_precision``: of the test examples that fall back, the share from held-out intents.

Writes ``bench/results/nlu_oos.json``. Data is read from ``../shared/data``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import write_result  # noqa: E402
from bench.nlu_banking77 import read_split  # noqa: E402
from bot.nlu.embedder import get_embedder  # noqa: E402
from bot.nlu.intent_classifier import IntentClassifier  # noqa: E402
from bot.progress import StageProgress  # noqa: E402

N_HELD_OUT = 10
SEED = 77
OOS = "out_of_scope"


def held_out_intents(intents: list[str]) -> list[str]:
    return sorted(np.random.default_rng(SEED).choice(sorted(set(intents)), N_HELD_OUT, replace=False).tolist())


def scores(classifier: IntentClassifier, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Top intent and its confidence for each text."""
    rankings = classifier.predict_batch(texts)
    return [r[0][0] for r in rankings], np.array([r[0][1] for r in rankings])


def evaluate(predicted: list[str], confidence: np.ndarray, gold: list[str], threshold: float) -> dict:
    final = np.where(confidence < threshold, OOS, np.array(predicted, dtype=object))
    gold = np.array(gold, dtype=object)
    in_scope, flagged = gold != OOS, final == OOS
    return {"in_scope_accuracy": float(np.mean(final[in_scope] == gold[in_scope])),
            "oos_recall": float(np.mean(flagged[~in_scope])),
            "oos_precision": float(np.mean(~in_scope[flagged])) if flagged.any() else 0.0}


def choose_threshold(predicted: list[str], confidence: np.ndarray, gold: list[str]) -> tuple[float, dict]:
    """The valid-split threshold with the best mean of in-scope accuracy and OOS recall."""
    best = None
    for threshold in np.round(np.arange(0.05, 1.0, 0.01), 2):
        figures = evaluate(predicted, confidence, gold, float(threshold))
        key = (figures["in_scope_accuracy"] + figures["oos_recall"]) / 2
        if best is None or key > best[0]:
            best = (key, float(threshold), figures)
    return best[1], best[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-threads", type=int, help="torch threads for training (default: all cores)")
    args = parser.parse_args()
    train_x, train_y = read_split("train")
    held = held_out_intents(train_y)
    kept = [i for i, label in enumerate(train_y) if label not in held]
    train_x, train_y = [train_x[i] for i in kept], [train_y[i] for i in kept]
    get_embedder()
    classifier = IntentClassifier(train_threads=args.train_threads)
    progress = StageProgress()
    started = time.perf_counter()
    classifier.train(train_x, train_y, progress=progress)
    train_seconds = time.perf_counter() - started
    progress.close()
    split = {}
    for name in ("valid", "test"):
        texts, labels = read_split(name)
        split[name] = (*scores(classifier, texts), [OOS if label in held else label for label in labels])
    threshold, valid = choose_threshold(*split["valid"])
    test = evaluate(*split["test"], threshold)
    closed_set = evaluate(*split["test"], 0.0)["in_scope_accuracy"]  # no fallback: the ceiling of in-scope accuracy
    result = {**{k: round(v, 4) for k, v in test.items()}, "threshold": threshold,
              "in_scope_accuracy_without_fallback": round(closed_set, 4),
              "valid": {k: round(v, 4) for k, v in valid.items()}, "held_out_intents": held,
              "n_train": len(train_x), "n_test_in_scope": sum(label != OOS for label in split["test"][2]),
              "n_test_oos": sum(label == OOS for label in split["test"][2]), "train_seconds": round(train_seconds, 1),
              "command": "python bench/nlu_oos.py"
              + (f" --train-threads {args.train_threads}" if args.train_threads else "")}
    path = write_result("nlu_oos.json", result)
    print(f"threshold {threshold} (chosen on valid: {valid})")
    print(f"test: {test}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
