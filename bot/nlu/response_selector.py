"""Rasa's ResponseSelector on top of the intent classifier.

Rasa trains a second model per retrieval intent to pick the sub-intent
(``faq/payment_methods``). Helpline trains its one intent classifier on the
full retrieval intents instead: the probability of ``faq`` is the sum of its
sub-intents' probabilities, and the selector's ranking is the sub-intents'
probabilities renormalised within ``faq``. One model, fine-tuned on every
example, sees the sub-intents as the separate questions they are, and the
NLU fallback still judges the base intent (two close FAQ answers are not an
ambiguous intent). ``bench/response_selector.py`` measures the selection on
held-out questions.

The parse result carries Rasa's ``response_selector`` block (one entry per
retrieval intent plus ``default`` over all of them) and the intent's
``full_retrieval_intent_name``, as Rasa's ``/model/parse`` does.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from bot.training_data.retrieval import base_intent, is_full_retrieval_intent, response_for

RANKING_LENGTH = 10
DEFAULT_KEY = "default"


class ResponseSelector:
    def __init__(self, retrieval_intents: list[str], responses: dict[str, list[dict]]):
        self.retrieval_intents = sorted(retrieval_intents)
        self.responses = responses  # utter_faq/x -> variations, as in the domain at training time

    @classmethod
    def for_labels(cls, labels: list[str], domain_responses: dict[str, list[dict]] | None) -> "ResponseSelector | None":
        """A selector when some training labels are full retrieval intents, else None."""
        full = sorted({label for label in labels if is_full_retrieval_intent(label)})
        if not full:
            return None
        responses = {response_for(f): (domain_responses or {}).get(response_for(f), []) for f in full}
        return cls(sorted({base_intent(f) for f in full}), responses)

    def split(self, ranking: list[tuple[str, float]]) -> tuple[list[tuple[str, float]], dict]:
        """Full-label ranking -> (base-intent ranking, Rasa's ``response_selector`` block)."""
        totals: dict[str, float] = defaultdict(float)
        members: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for name, probability in ranking:
            totals[base_intent(name)] += probability
            if is_full_retrieval_intent(name):
                members[base_intent(name)].append((name, probability))
        base_ranking = sorted(totals.items(), key=lambda item: -item[1])
        block: dict = {"all_retrieval_intents": list(self.retrieval_intents)}
        for intent in self.retrieval_intents:
            block[intent] = self._selection(members.get(intent, []))
        block[DEFAULT_KEY] = self._selection([m for intent in self.retrieval_intents for m in members.get(intent, [])])
        return base_ranking, block

    def _selection(self, candidates: list[tuple[str, float]]) -> dict:
        total = sum(p for _, p in candidates)
        if not candidates or total <= 0:
            return {"response": {}, "ranking": []}
        ordered = sorted(((name, p / total) for name, p in candidates), key=lambda item: -item[1])
        best, confidence = ordered[0]
        variations = self.responses.get(response_for(best), [])
        return {
            "response": {"id": None, "responses": variations, "response_templates": variations,
                         "confidence": round(confidence, 6), "intent_response_key": best,
                         "utter_action": response_for(best), "template_name": response_for(best)},
            "ranking": [{"id": None, "confidence": round(p, 6), "intent_response_key": name}
                        for name, p in ordered[:RANKING_LENGTH]],
        }

    def persist(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "selector.json").write_text(json.dumps(
            {"retrieval_intents": self.retrieval_intents, "responses": self.responses}))

    @classmethod
    def load(cls, directory: Path) -> "ResponseSelector":
        data = json.loads((directory / "selector.json").read_text())
        return cls(data["retrieval_intents"], data["responses"])
