"""Rasa's (Augmented)MemoizationPolicy: recall the next action of a story seen before.

The key is the last ``max_history`` states. Keys that stories disagree on are
dropped. The augmented variant also tries the conversation's recent turns as
if they started a story, which lets stories be glued together.
"""
from __future__ import annotations

from typing import Any

from bot.core.policies import Prediction
from bot.core.events import ActionExecuted
from bot.core.states import State, past_states, states_key
from bot.core.tracker import DialogueStateTracker

PRIORITY = 3
MAX_TRUNCATIONS = 12


class MemoizationPolicy:
    name = "MemoizationPolicy"

    def __init__(self, max_history: int = 5, augmented: bool = False, **_: Any):
        self.max_history = int(max_history)
        self.augmented = augmented
        self.lookup: dict[str, str] = {}

    def train(self, examples: list[tuple[list[State], str]]) -> None:
        lookup: dict[str, str] = {}
        ambiguous: set[str] = set()
        for states, action in examples:
            key = states_key(states[-self.max_history:])
            if key in ambiguous:
                continue
            if lookup.setdefault(key, action) != action:
                del lookup[key]
                ambiguous.add(key)
        self.lookup = lookup

    def _recall(self, states: list[State]) -> str | None:
        return self.lookup.get(states_key(states[-self.max_history:]))

    def _recall_from_truncations(self, tracker: DialogueStateTracker) -> str | None:
        """Pretend the conversation started at an earlier action (Rasa's 'back to the future').

        The longest truncation is tried first, so the most context that a story covers wins.
        """
        events = tracker.applied_events()
        cuts = [i for i, e in enumerate(events) if isinstance(e, ActionExecuted)][1:]
        for cut in cuts[-MAX_TRUNCATIONS:]:
            truncated = DialogueStateTracker(tracker.sender_id, tracker.domain, events[cut:])
            action = self._recall(past_states(truncated))
            if action is not None:
                return action
        return None

    def predict(self, tracker: DialogueStateTracker, states: list[State]) -> Prediction | None:
        action = self._recall(states)
        if action is None and self.augmented:
            action = self._recall_from_truncations(tracker)
        return Prediction(action, 1.0, self.name, PRIORITY) if action else None

    def to_dict(self) -> dict:
        return {"max_history": self.max_history, "augmented": self.augmented, "lookup": self.lookup}

    @classmethod
    def from_dict(cls, data: dict) -> "MemoizationPolicy":
        policy = cls(data["max_history"], data["augmented"])
        policy.lookup = data["lookup"]
        return policy
