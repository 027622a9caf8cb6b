"""Combine the policies the way Rasa does: highest confidence wins, ties go to priority."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable

from bot.config import BotConfig
from bot.core.events import ActionExecutionRejected
from bot.core.policies import Prediction
from bot.core.policies.generalizing import GeneralizingPolicy
from bot.core.policies.memoization import MemoizationPolicy
from bot.core.policies.rule_policy import RulePolicy
from bot.core.states import past_states, training_examples
from bot.core.story_graph import story_trackers
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.training_data.domain import Domain
from bot.training_data.stories import Story

logger = logging.getLogger(__name__)


class PolicyEnsemble:
    def __init__(self, rules: RulePolicy | None, memoization: MemoizationPolicy | None,
                 generalizing: GeneralizingPolicy | None):
        self.rules, self.memoization, self.generalizing = rules, memoization, generalizing

    @classmethod
    def from_config(cls, config: BotConfig) -> "PolicyEnsemble":
        def options(kind: str) -> dict | None:
            spec = config.policy(kind)
            return None if spec is None else {k: v for k, v in spec.items() if k != "name"}

        rule_options, memo_options, general_options = options("rules"), options("memoization"), options("generalizing")
        memo_spec = config.policy("memoization")
        return cls(
            RulePolicy(**rule_options) if rule_options is not None else None,
            MemoizationPolicy(augmented=memo_spec["name"] == "AugmentedMemoizationPolicy", **memo_options)
            if memo_options is not None else None,
            GeneralizingPolicy(**general_options) if general_options is not None else None,
        )

    @property
    def policies(self) -> list:
        return [p for p in (self.rules, self.memoization, self.generalizing) if p is not None]

    def train(self, stories: list[Story], rules: list[Story], domain: Domain,
              progress: Callable[[str], None] = lambda _: None) -> None:
        if self.rules is not None:
            self.rules.train(rules, domain)
            progress(f"rules: {len(self.rules.rules)} rule predictions")
        trackers = story_trackers(stories, domain)
        examples = []
        for _, events in trackers:
            examples.extend(training_examples(DialogueStateTracker("story", domain, events)))
        progress(f"stories: {len(trackers)} story paths, {len(examples)} actions to learn")
        if self.memoization is not None:
            self.memoization.train(examples)
        if self.generalizing is not None:
            self.generalizing.train(examples)
            progress("generalizing policy trained")

    def predictions(self, tracker: DialogueStateTracker) -> list[Prediction]:
        states = past_states(tracker)
        rejected = tracker.events[-1].name if tracker.events and isinstance(
            tracker.events[-1], ActionExecutionRejected) else None
        found = []
        for policy in self.policies:
            prediction = policy.predict(tracker, states)
            if prediction is not None and prediction.action != rejected:
                found.append(prediction)
        return found

    def predict(self, tracker: DialogueStateTracker) -> Prediction:
        """The winning prediction; listening is the last resort."""
        candidates = self.predictions(tracker)
        if not candidates:
            return Prediction(ACTION_LISTEN, 0.0, "none", 0)
        best = max(candidates, key=lambda p: (round(p.confidence, 6), p.priority))
        logger.debug("predicted", extra={"candidates": [str(c) for c in candidates], "chosen": str(best)})
        return best

    def persist(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        manifest = {
            "rules": self.rules.to_dict() if self.rules else None,
            "memoization": self.memoization.to_dict() if self.memoization else None,
            "generalizing": self.generalizing is not None,
        }
        (directory / "policies.json").write_text(json.dumps(manifest, default=list))
        if self.generalizing is not None:
            self.generalizing.persist(directory)

    @classmethod
    def load(cls, directory: Path) -> "PolicyEnsemble":
        manifest = json.loads((directory / "policies.json").read_text())
        return cls(
            RulePolicy.from_dict(manifest["rules"]) if manifest["rules"] else None,
            MemoizationPolicy.from_dict(manifest["memoization"]) if manifest["memoization"] else None,
            GeneralizingPolicy.load(directory) if manifest["generalizing"] else None,
        )

