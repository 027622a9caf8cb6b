"""``helpline test nlu``: per-intent precision and recall, and the worst confusions.

Without a test file the project's examples are split (stratified, seeded) so
editors see how well the intents separate before a caller does.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.nlu.interpreter import NLUInterpreter
from bot.training_data.nlu_data import NLUData, TrainingExample
from bot.training_data.project import BotProject, read_training_file


@dataclass
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class NLUReport:
    accuracy: float
    macro_f1: float
    intents: list[IntentScore]
    confusions: list[tuple[str, str, int]]  # (gold, predicted, count)
    n_train: int
    n_test: int


def split_examples(data: NLUData, fraction: float, seed: int = 42) -> tuple[NLUData, list[TrainingExample]]:
    """Hold out ``fraction`` of every intent that has at least two examples."""
    by_intent: dict[str, list[TrainingExample]] = defaultdict(list)
    for example in data.examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    train, test = [], []
    for examples in by_intent.values():
        shuffled = examples[:]
        rng.shuffle(shuffled)
        held = int(round(len(shuffled) * fraction)) if len(shuffled) > 1 else 0
        test.extend(shuffled[:held])
        train.extend(shuffled[held:])
    return NLUData(train, data.synonyms, data.regexes, data.lookups), test


def score(gold: list[str], predicted: list[str]) -> NLUReport:
    labels = sorted(set(gold) | set(predicted))
    pairs = Counter(zip(gold, predicted))
    intents = []
    for label in labels:
        tp = pairs[(label, label)]
        predicted_as = sum(c for (g, p), c in pairs.items() if p == label)
        support = sum(c for (g, p), c in pairs.items() if g == label)
        precision = tp / predicted_as if predicted_as else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        intents.append(IntentScore(label, precision, recall, f1, support))
    with_support = [s for s in intents if s.support]
    confusions = sorted(((g, p, c) for (g, p), c in pairs.items() if g != p), key=lambda x: -x[2])
    return NLUReport(
        accuracy=sum(pairs[(g, g)] for g in set(gold)) / len(gold) if gold else 0.0,
        macro_f1=sum(s.f1 for s in with_support) / len(with_support) if with_support else 0.0,
        intents=intents, confusions=confusions[:10], n_train=0, n_test=len(gold))


def predicted_label(parsed: dict) -> str | None:
    """The intent as training data names it: ``faq/payment_methods`` for a retrieval intent."""
    intent = parsed.get("intent") or {}
    return intent.get("full_retrieval_intent_name") or intent.get("name")


def evaluate_nlu(project: BotProject, test_file: Path | None, split: float, progress) -> NLUReport:
    if test_file is not None:
        train_data, test = project.data.nlu, read_training_file(test_file).nlu.examples
    else:
        train_data, test = split_examples(project.data.nlu, split)
    interpreter = NLUInterpreter.train(train_data, project.config, progress, project.domain.responses)
    predicted = [predicted_label(interpreter.parse(e.text)) for e in test]
    report = score([e.intent for e in test], predicted)
    report.n_train = len(train_data.examples)
    return report


def format_report(report: NLUReport) -> str:
    lines = [f"trained on {report.n_train} examples, tested on {report.n_test}",
             f"accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}", "",
             f"{'intent':<32}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}"]
    for s in sorted(report.intents, key=lambda s: s.f1):
        lines.append(f"{s.intent:<32}{s.precision:>10.2f}{s.recall:>10.2f}{s.f1:>8.2f}{s.support:>9}")
    if report.confusions:
        lines += ["", "worst confusions (gold -> predicted: count):"]
        lines += [f"  {g} -> {p}: {c}" for g, p, c in report.confusions]
    return "\n".join(lines)
