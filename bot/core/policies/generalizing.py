"""A policy that generalizes beyond the stories (Helpline's stand-in for TEDPolicy).

The last ``max_history`` states are one-hot featurized (previous action,
intent, entities, slots, active loop, position by position) and a multinomial
logistic regression predicts the next action. It answers for conversations no
story covers exactly; rules and memoization win where they apply.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from bot.core.policies import Prediction
from bot.core.states import State
from bot.core.tracker import DialogueStateTracker

PRIORITY = 1


def _state_features(state: State) -> list[str]:
    features = []
    if "prev_action" in state:
        features.append(f"a:{state['prev_action'].get('action_name')}")
    user = state.get("user") or {}
    if "intent" in user:
        features.append(f"i:{user['intent']}")
    features.extend(f"e:{e}" for e in user.get("entities", ()))
    if "active_loop" in state:
        features.append(f"l:{state['active_loop']['name']}")
    for name, value in (state.get("slots") or {}).items():
        features.extend(f"s:{name}:{i}={v}" for i, v in enumerate(value) if v)
    return features


class GeneralizingPolicy:
    name = "TEDPolicy"

    def __init__(self, max_history: int = 5, **_: Any):
        self.max_history = int(max_history)
        self.vocabulary: dict[str, int] = {}
        self.actions: list[str] = []
        self.model: LogisticRegression | None = None

    def _vector(self, states: list[State]) -> np.ndarray:
        vector = np.zeros(len(self.vocabulary) * self.max_history, dtype=np.float32)
        for position, state in enumerate(reversed(states[-self.max_history:])):
            for feature in _state_features(state):
                index = self.vocabulary.get(feature)
                if index is not None:
                    vector[position * len(self.vocabulary) + index] = 1.0
        return vector

    def train(self, examples: list[tuple[list[State], str]]) -> None:
        features = sorted({f for states, _ in examples for s in states[-self.max_history:] for f in _state_features(s)})
        self.vocabulary = {f: i for i, f in enumerate(features)}
        self.actions = sorted({action for _, action in examples})
        if len(self.actions) < 2:
            self.model = None
            return
        x = np.stack([self._vector(states) for states, _ in examples])
        y = np.array([self.actions.index(action) for _, action in examples])
        self.model = LogisticRegression(C=50.0, max_iter=2000).fit(x, y)

    def predict(self, tracker: DialogueStateTracker, states: list[State]) -> Prediction | None:
        if self.model is None:
            return Prediction(self.actions[0], 1.0, self.name, PRIORITY) if self.actions else None
        probabilities = self.model.predict_proba(self._vector(states)[None, :])[0]
        best = int(np.argmax(probabilities))
        return Prediction(self.actions[int(self.model.classes_[best])], float(probabilities[best]), self.name, PRIORITY)

    def persist(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"max_history": self.max_history, "vocabulary": self.vocabulary, "actions": self.actions}
        (directory / "generalizing.json").write_text(json.dumps(meta))
        if self.model is not None:
            np.savez(directory / "generalizing.npz", coef=self.model.coef_, intercept=self.model.intercept_,
                     classes=self.model.classes_)

    @classmethod
    def load(cls, directory: Path) -> "GeneralizingPolicy":
        meta = json.loads((directory / "generalizing.json").read_text())
        policy = cls(meta["max_history"])
        policy.vocabulary, policy.actions = meta["vocabulary"], meta["actions"]
        weights = directory / "generalizing.npz"
        if weights.exists():
            arrays = np.load(weights)
            model = LogisticRegression()
            model.coef_, model.intercept_, model.classes_ = arrays["coef"], arrays["intercept"], arrays["classes"]
            policy.model = model
        return policy
