"""``helpline test``: replay Rasa test stories and report every step where the bot would deviate.

Like ``rasa test``: for each step of a test story the bot predicts what it
would do (parse the user's text the way the server does, ``/intent{...}``
included, and pick the next action); the gold step is then applied, so one
mistake does not hide the next. With an :class:`ActionChecker`
(``--run-actions``) each expected action also runs for real, so a bot that
would be silent or whose action code is missing fails its test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from bot.core.events import ActionExecuted, ActionExecutionRejected, Event, UserUttered
from bot.core.policies.ensemble import PolicyEnsemble
from bot.core.processor import parse_message
from bot.core.story_graph import RETRIEVAL_RESPONSE, explicit_events, linear_variants
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.training_data.domain import Domain
from bot.core.processor import BotModel
from bot.training_data.project import BotProject, read_training_file
from bot.training_data.retrieval import DELIMITER
from bot.training_data.stories import Story, parse_intent_trigger

if TYPE_CHECKING:
    from bot.testing.action_check import ActionChecker


class Parser(Protocol):
    def parse(self, text: str) -> dict: ...


@dataclass
class Mismatch:
    step: int  # index of the gold event in its variant
    expected: str
    predicted: str
    variant: int = 0
    kind: str = "action"  # action, intent, entities, or run (an action that failed when run)


@dataclass
class StoryResult:
    story: Story
    mismatches: list[Mismatch] = field(default_factory=list)
    variants: list[list[Event]] = field(default_factory=list)  # the gold events that were replayed
    intents: list[tuple[str, str]] = field(default_factory=list)  # (gold, predicted) per user text

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def describe(self) -> str:
        """``PASS name`` or ``FAIL name (file:line)`` followed by one line per mismatch."""
        if self.passed:
            return f"PASS {self.story.name}"
        lines = [f"FAIL {self.story.name} ({self.story.origin})"]
        lines += [f"    step {m.step}: expected {m.expected}, predicted {m.predicted}" for m in self.mismatches]
        return "\n".join(lines)


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


def _entity_values(entities: list[dict]) -> set[tuple]:
    return {(e.get("entity"), str(e.get("value"))) for e in entities}


class StoryTester:
    def __init__(self, domain: Domain, ensemble: PolicyEnsemble, parser: Parser | None = None,
                 trained_entities: set[str] | None = None, actions: "ActionChecker | None" = None):
        self.domain, self.ensemble, self.parser = domain, ensemble, parser
        self.trained_entities = trained_entities or set()
        self.actions = actions

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
            result.variants.append(events)
            self._replay(events, result, len(result.variants) - 1)
        return result

    def _replay(self, gold: list[Event], result: StoryResult, variant: int) -> None:
        tracker = DialogueStateTracker(result.story.name, self.domain)
        tracker.update(gold[0])
        for step, event in enumerate(gold[1:], start=1):
            if isinstance(event, ActionExecuted) and event.name:
                self._check_action(step, event, tracker, result, variant)
            elif isinstance(event, UserUttered) and event.text and self.parser is not None:
                event = self._check_user(step, event, result, variant)
            tracker.update(event)

    def _check_action(self, step: int, gold: ActionExecuted, tracker: DialogueStateTracker, result: StoryResult,
                      variant: int) -> None:
        predicted = self.ensemble.predict(tracker).action
        if predicted != gold.name and predicted == tracker.active_loop_name:
            # A real form would have rejected this turn; let the other policies answer (as rasa test does).
            tracker.update(ActionExecutionRejected(name=predicted))
            predicted = self.ensemble.predict(tracker).action
        expected = gold.metadata.get(RETRIEVAL_RESPONSE) or gold.name
        if predicted == gold.name and expected != gold.name:
            # the response is that of the sub-intent chosen for the latest message; unknown, the action decides
            predicted = self._full_retrieval_action(predicted, tracker) or expected
        if predicted != expected:
            result.mismatches.append(Mismatch(step, f"action {expected}", f"action {predicted}", variant))
        elif self.actions is not None:
            problem = self.actions.check(gold.name, tracker)
            if problem:
                result.mismatches.append(Mismatch(step, f"action {gold.name} to run", problem, variant, "run"))

    @staticmethod
    def _full_retrieval_action(action: str, tracker: DialogueStateTracker) -> str | None:
        """``utter_faq`` + the sub-intent chosen for the latest message: ``utter_faq/payment_methods``."""
        message = tracker.latest_message
        full = ((message.parse_data.get("intent") or {}).get("full_retrieval_intent_name") if message else None)
        if not full:
            return None
        return f"utter_{full}" if action == f"utter_{full.split(DELIMITER)[0]}" else action

    def _check_user(self, step: int, gold: UserUttered, result: StoryResult, variant: int) -> UserUttered:
        """Compare the parse with the gold turn; the gold turn goes on, carrying the parse's response choice."""
        parsed = parse_message(gold.text, self.domain, self.parser)
        intent = parsed.get("intent") or {}
        gold_intent = gold.parse_data.get("intent") or {}
        expected = gold_intent.get("full_retrieval_intent_name") or gold.intent_name
        predicted = intent.get("name")
        if expected and DELIMITER in expected:
            predicted = intent.get("full_retrieval_intent_name") or predicted
        if expected:
            result.intents.append((expected, predicted or "None"))
        if expected and predicted != expected:
            result.mismatches.append(Mismatch(step, f"intent {expected} for {gold.text!r}", f"intent {predicted}",
                                              variant, "intent"))
        elif parse_intent_trigger(gold.text):
            expected_entities, found = _entity_values(gold.entities), _entity_values(parsed.get("entities") or [])
            if expected_entities != found:
                result.mismatches.append(Mismatch(step, f"entities {sorted(expected_entities)} in {gold.text!r}",
                                                  f"entities {sorted(found)}", variant, "entities"))
        else:
            expected_spans = _entity_spans(gold.entities, self.trained_entities)
            found = _entity_spans(parsed.get("entities") or [], self.trained_entities)
            if expected_spans != found:
                result.mismatches.append(Mismatch(step, f"entities {sorted(map(str, expected_spans))} in {gold.text!r}",
                                                  f"entities {sorted(map(str, found))}", variant, "entities"))
        return _with_response_choice(gold, parsed)


def _with_response_choice(gold: UserUttered, parsed: dict) -> UserUttered:
    """The gold turn, plus the response the NLU chose for it (what ``utter_faq`` will say)."""
    if "response_selector" not in parsed:
        return gold
    parse_data = {**gold.parse_data, "response_selector": parsed["response_selector"]}
    intent = dict(parse_data.get("intent") or {})
    chosen = (parsed.get("intent") or {}).get("full_retrieval_intent_name")
    if "full_retrieval_intent_name" not in intent and chosen and chosen.split(DELIMITER)[0] == intent.get("name"):
        intent["full_retrieval_intent_name"] = chosen
    parse_data["intent"] = intent
    return UserUttered(text=gold.text, parse_data=parse_data, timestamp=gold.timestamp, metadata=gold.metadata)
