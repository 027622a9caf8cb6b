"""``helpline test``: replay Rasa test stories and report where the bot would deviate.

Like ``rasa test``: for each step of a test story the bot predicts what it
would do (parse the user's text, pick the next action); the gold step is then
applied, so one mistake does not cascade. Actions are predicted, never run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from bot.core.events import ActionExecuted, ActionExecutionRejected, Event, UserUttered
from bot.core.policies.ensemble import PolicyEnsemble
from bot.core.story_graph import explicit_events, linear_variants
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.training_data.domain import Domain
from bot.core.processor import BotModel
from bot.training_data.project import BotProject, read_training_file
from bot.training_data.stories import Story


class Parser(Protocol):
    def parse(self, text: str) -> dict: ...


@dataclass
class Mismatch:
    step: int
    expected: str
    predicted: str


@dataclass
class StoryResult:
    story: Story
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def describe(self) -> str:
        if self.passed:
            return f"PASS {self.story.name}"
        first = self.mismatches[0]
        return (f"FAIL {self.story.name} ({self.story.origin}) at step {first.step}: "
                f"expected {first.expected}, predicted {first.predicted}")


@dataclass
class TestReport:
    results: list[StoryResult]

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0

    def summary(self, seconds: float, max_failures: int = 50) -> dict:
        """What the model registry keeps of a run: counts and the failed stories with their first mismatch."""
        failed = [{"story": r.story.name, "detail": r.describe()} for r in self.results if not r.passed]
        return {"passed": self.passed, "total": len(self.results), "seconds": round(seconds, 2),
                "failed": failed[:max_failures]}


def run_project_stories(project: BotProject, model: BotModel,
                        progress: Callable[[int, int], None] = lambda *_: None) -> TestReport:
    """The project's test stories (``helpline test``) against a loaded model."""
    stories = load_test_stories(project.test_story_files())
    tester = StoryTester(model.domain, model.ensemble, model.interpreter, project.data.nlu.entity_names)
    return tester.run(stories, progress)


def load_test_stories(files: list[Path]) -> list[Story]:
    stories: list[Story] = []
    for file in files:
        data = read_training_file(file)
        stories.extend(data.stories + data.rules)
    return stories


def _entity_spans(entities: list[dict], trained: set[str]) -> set[tuple]:
    return {(e["entity"], e.get("start"), e.get("end"), e.get("role"), e.get("group"))
            for e in entities if e.get("entity") in trained and e.get("start") is not None}


class StoryTester:
    def __init__(self, domain: Domain, ensemble: PolicyEnsemble, parser: Parser | None = None,
                 trained_entities: set[str] | None = None):
        self.domain, self.ensemble, self.parser = domain, ensemble, parser
        self.trained_entities = trained_entities or set()

    def run(self, stories: list[Story], progress: Callable[[int, int], None] = lambda *_: None) -> TestReport:
        results = []
        for index, story in enumerate(stories):
            results.append(self.test_story(story))
            progress(index + 1, len(stories))
        return TestReport(results)

    def test_story(self, story: Story) -> StoryResult:
        result = StoryResult(story)
        for variant in linear_variants([*story.conditions, *story.steps], keep_text=True):
            events = explicit_events([ActionExecuted(name=ACTION_LISTEN), *variant], self.domain, final_listen=False)
            self._replay(events, result)
        return result

    def _replay(self, gold: list[Event], result: StoryResult) -> None:
        tracker = DialogueStateTracker(result.story.name, self.domain)
        tracker.update(gold[0])
        for step, event in enumerate(gold[1:], start=1):
            if isinstance(event, ActionExecuted) and event.name:
                predicted = self.ensemble.predict(tracker).action
                if predicted != event.name and predicted == tracker.active_loop_name:
                    # A real form would have rejected this turn; let the other policies answer (as rasa test does).
                    tracker.update(ActionExecutionRejected(name=predicted))
                    predicted = self.ensemble.predict(tracker).action
                if predicted != event.name:
                    result.mismatches.append(Mismatch(step, f"action {event.name}", f"action {predicted}"))
            elif isinstance(event, UserUttered) and event.text and self.parser is not None:
                self._check_user(step, event, result)
            tracker.update(event)

    def _check_user(self, step: int, gold: UserUttered, result: StoryResult) -> None:
        parsed = self.parser.parse(gold.text)
        predicted_intent = (parsed.get("intent") or {}).get("name")
        if gold.intent_name and predicted_intent != gold.intent_name:
            result.mismatches.append(Mismatch(step, f"intent {gold.intent_name} for {gold.text!r}",
                                              f"intent {predicted_intent}"))
            return
        expected = _entity_spans(gold.entities, self.trained_entities)
        found = _entity_spans(parsed.get("entities") or [], self.trained_entities)
        if expected != found:
            result.mismatches.append(Mismatch(step, f"entities {sorted(map(str, expected))} in {gold.text!r}",
                                              f"entities {sorted(map(str, found))}"))
