"""The files ``rasa test`` leaves in ``results/``, written from a story test run.

- ``failed_test_stories.yml``: every failed story as runnable test-story YAML,
  with a ``# predicted: ...`` comment on each step that went wrong;
- ``intent_report.json``: per-intent precision, recall, F1, support and what
  each intent was confused with (Rasa's layout, from the test stories' user turns);
- ``intent_confusion_matrix.png``: the confusion matrix of the worst intents.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bot.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from bot.core.story_graph import RETRIEVAL_RESPONSE
from bot.core.tracker import ACTION_LISTEN
from bot.testing.story_test import Mismatch, StoryResult, TestReport

FAILED_STORIES = "failed_test_stories.yml"
INTENT_REPORT = "intent_report.json"
CONFUSION_MATRIX = "intent_confusion_matrix.png"
WORST_INTENTS = 10


def write_results(report: TestReport, directory: Path) -> list[Path]:
    """Write the result files into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / FAILED_STORIES, directory / INTENT_REPORT]
    written[0].write_text(failed_stories_yaml(report.results), encoding="utf-8")
    pairs = [pair for result in report.results for pair in result.intents]
    intent_report = intent_report_dict(pairs)
    written[1].write_text(json.dumps(intent_report, indent=2), encoding="utf-8")
    if pairs:
        written.append(directory / CONFUSION_MATRIX)
        plot_confusion_matrix(pairs, intent_report, written[-1])
    return written


# --- failed stories ------------------------------------------------------------------

def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _comment(mismatch: Mismatch) -> str:
    if mismatch.kind == "run":
        return f"  # failed when run: {mismatch.predicted}"
    return f"  # predicted: {mismatch.predicted.removeprefix('action ').removeprefix('intent ')}"


def _user_lines(event: UserUttered, comment: str) -> list[str]:
    intent = (event.parse_data.get("intent") or {})
    name = intent.get("full_retrieval_intent_name") or intent.get("name")
    lines = [f"  - intent: {name}{comment}", f"    user: {_quoted(event.text or '')}"]
    if event.entities:
        lines.append("    entities:")
        lines += [f"    - {e['entity']}: {_quoted(str(e.get('value')))}" for e in event.entities]
    return lines


def _event_lines(event: Event, comment: str) -> list[str]:
    if isinstance(event, UserUttered):
        return _user_lines(event, comment)
    if isinstance(event, ActionExecuted):
        if event.name == ACTION_LISTEN:
            return []
        return [f"  - action: {event.metadata.get(RETRIEVAL_RESPONSE) or event.name}{comment}"]
    if isinstance(event, SlotSet):
        return ["  - slot_was_set:", f"    - {event.name}: {json.dumps(event.value, ensure_ascii=False)}{comment}"]
    if isinstance(event, ActiveLoop):
        return [f"  - active_loop: {event.name or 'null'}{comment}"]
    return []


def failed_stories_yaml(results: list[StoryResult]) -> str:
    failed = [r for r in results if not r.passed]
    if not failed:
        return "# None of the test stories failed - all good!\n"
    lines = ['version: "3.1"', "stories:"]
    for result in failed:
        for index, events in enumerate(result.variants):
            mismatches = [m for m in result.mismatches if m.variant == index]
            if not mismatches:
                continue
            by_step: dict[int, list[Mismatch]] = {}
            for mismatch in mismatches:
                by_step.setdefault(mismatch.step, []).append(mismatch)
            suffix = f" [variant {index + 1}]" if len(result.variants) > 1 else ""
            lines += [f"- story: {_quoted(f'{result.story.name}{suffix} ({result.story.origin})')}", "  steps:"]
            for step, event in enumerate(events):
                comment = "".join(_comment(m) for m in by_step.get(step, []))
                lines += _event_lines(event, comment)
    return "\n".join(lines) + "\n"


# --- intent report -----------------------------------------------------------------------

def intent_report_dict(pairs: list[tuple[str, str]]) -> dict:
    """sklearn's classification report with Rasa's ``confused_with`` per intent."""
    if not pairs:
        return {}
    from sklearn.metrics import classification_report

    gold, predicted = zip(*pairs)
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    confusions = Counter((g, p) for g, p in pairs if g != p)
    for label, scores in report.items():
        if isinstance(scores, dict) and label not in ("macro avg", "weighted avg", "micro avg"):
            scores["confused_with"] = {p: n for (g, p), n in confusions.most_common() if g == label}
    return report


def worst_intents(report: dict, limit: int = WORST_INTENTS) -> list[str]:
    """The intents with the lowest F1 among those the test stories use."""
    scored = [(scores["f1-score"], label) for label, scores in report.items()
              if isinstance(scores, dict) and "confused_with" in scores and scores.get("support")]
    return [label for _, label in sorted(scored)[:limit]]


def plot_confusion_matrix(pairs: list[tuple[str, str]], report: dict, path: Path) -> None:
    """The worst intents and what they were taken for, as a heat map (headless: matplotlib's Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    worst = worst_intents(report)
    labels = worst + sorted({p for g, p in pairs if g in worst and p not in worst})
    gold, predicted = zip(*pairs)
    matrix = confusion_matrix(gold, predicted, labels=labels)
    size = max(4.0, 0.6 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted intent")
    axes.set_ylabel("intent in the test stories")
    axes.set_title(f"Intent confusion matrix (worst {len(worst)} intents)")
    for row in range(len(labels)):
        for column in range(len(labels)):
            if matrix[row, column]:
                axes.text(column, row, str(matrix[row, column]), ha="center", va="center", fontsize=8,
                          color="white" if matrix[row, column] > matrix.max() / 2 else "black")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
