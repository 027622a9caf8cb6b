"""Response selection for retrieval intents (``faq/payment_methods``), measured on held-out questions.

    python bench/response_selector.py                       # the FAQ test bot (tests/bots/faq_bot)
    python bench/response_selector.py /tmp/rasa-bots/rasa-demo /tmp/rasa-bots/carbon-bot

Each bot's NLU examples are split per intent (80/20, seeded; sub-intents with a
single example stay in training). The NLU is trained on the 80 % as `helpline
train` trains it (one intent classifier on the full retrieval intents, see
bot/nlu/response_selector.py) and parses the held-out 20 %. Reported, for the
held-out examples of retrieval intents:

- ``selection_accuracy``: the predicted full retrieval intent is the gold one
  (base intent and response both right: what the caller hears);
- ``selection_given_base``: the response is right among those whose base intent was right;
- ``knn_selection_given_base``: side by side, the alternative of a separate
  selector: the gold base intent's training example nearest in frozen MiniLM
  embeddings (cosine) picks the response.

Only the NLU files are read, so Rasa 2.x bots work too. Writes bench/results/response_selector.json.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import ROOT, write_result  # noqa: E402
from bot.config import BotConfig  # noqa: E402
from bot.nlu.embedder import get_embedder  # noqa: E402
from bot.nlu.evaluation import split_examples  # noqa: E402
from bot.nlu.interpreter import NLUInterpreter  # noqa: E402
from bot.training_data.nlu_data import NLUData  # noqa: E402
from bot.training_data.project import read_training_file, yaml_files  # noqa: E402
from bot.training_data.retrieval import base_intent, is_full_retrieval_intent  # noqa: E402

DEFAULT_BOTS = [ROOT / "tests" / "bots" / "faq_bot"]


def read_nlu(root: Path) -> NLUData:
    data = NLUData()
    for file in yaml_files([root / "data"]):
        data.merge(read_training_file(file).nlu)
    return data


def knn_selection(train: list, test: list) -> list[str]:
    """Nearest training example (frozen MiniLM, cosine) among the gold base intent's sub-intents."""
    embedder = get_embedder()
    train = [e for e in train if is_full_retrieval_intent(e.intent)]
    train_vectors = embedder.encode([e.text for e in train])
    test_vectors = embedder.encode([e.text for e in test])
    chosen = []
    for example, vector in zip(test, test_vectors):
        same_base = [i for i, t in enumerate(train) if base_intent(t.intent) == base_intent(example.intent)]
        best = max(same_base, key=lambda i: float(np.dot(train_vectors[i], vector)))
        chosen.append(train[best].intent)
    return chosen


def measure(root: Path) -> dict:
    data = read_nlu(root)
    train_data, held_out = split_examples(data, 0.2)
    started = time.time()
    interpreter = NLUInterpreter.train(train_data, BotConfig(path=root / "config.yml"))
    train_seconds = time.time() - started
    retrieval = [e for e in held_out if is_full_retrieval_intent(e.intent)]
    parsed = [interpreter.parse(e.text)["intent"] for e in retrieval]
    full = [p.get("full_retrieval_intent_name") for p in parsed]
    base_right = [p["name"] == base_intent(e.intent) for p, e in zip(parsed, retrieval)]
    knn = knn_selection(train_data.examples, retrieval)
    given_base = [f == e.intent for f, e, ok in zip(full, retrieval, base_right) if ok]
    knn_given_base = [k == e.intent for k, e, ok in zip(knn, retrieval, base_right) if ok]
    all_parsed = [interpreter.parse(e.text)["intent"]["name"] for e in held_out]
    return {
        "examples": len(data.examples), "intents": len(data.intents),
        "retrieval_sub_intents": len({e.intent for e in data.examples if is_full_retrieval_intent(e.intent)}),
        "held_out": len(held_out), "held_out_retrieval": len(retrieval), "train_seconds": round(train_seconds, 1),
        "base_intent_accuracy": round(float(np.mean([p == base_intent(e.intent)
                                                     for p, e in zip(all_parsed, held_out)])), 4),
        "selection_accuracy": round(float(np.mean([f == e.intent for f, e in zip(full, retrieval)])), 4),
        "selection_given_base": round(float(np.mean(given_base)), 4),
        "knn_selection_given_base": round(float(np.mean(knn_given_base)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bots", nargs="*", type=Path, help="Rasa bot folders (default: the FAQ test bot)")
    args = parser.parse_args()
    results = {}
    print("| bot | sub-intents | held-out questions | selection accuracy | given base: Helpline | given base: "
          "MiniLM kNN | base intent accuracy | train s |\n|---|---|---|---|---|---|---|---|")
    for root in [p.resolve() for p in args.bots] or DEFAULT_BOTS:
        r = results[root.name] = measure(root)
        print(f"| {root.name} | {r['retrieval_sub_intents']} | {r['held_out_retrieval']} | "
              f"{r['selection_accuracy']:.3f} | {r['selection_given_base']:.3f} | {r['knn_selection_given_base']:.3f} | "
              f"{r['base_intent_accuracy']:.3f} | {r['train_seconds']} |", flush=True)
    command = "python bench/response_selector.py " + " ".join(str(p) for p in args.bots)
    print(f"wrote {write_result('response_selector.json', {'command': command.strip(), 'bots': results})}")


if __name__ == "__main__":
    main()
