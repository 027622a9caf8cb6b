"""Render domain responses: pick a variation (conditions, channel), fill ``{slot}`` templates."""
from __future__ import annotations

import random
import re
from typing import Any

from bot.training_data.domain import Domain

_PLACEHOLDER = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")
DEFAULT_TEXTS = {
    "utter_default": "Sorry, I didn't get that. Could you say it another way?",
    "utter_ask_rephrase": "Sorry, could you say that in a different way?",
    "utter_restart": "Okay, let's start over.",
    "utter_back": "Okay, going back.",
    "utter_handoff": "Let me connect you with a member of our team.",
}


def fill_template(text: str, values: dict[str, Any]) -> str:
    """Replace ``{name}`` with values; unknown names stay as written (Rasa does the same)."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def _condition_holds(condition: list[dict], slots: dict[str, Any]) -> bool:
    return all(c.get("type", "slot") == "slot" and slots.get(c.get("name")) == c.get("value") for c in condition)


class NaturalLanguageGenerator:
    """Turns a response name into the message a channel sends."""

    def __init__(self, domain: Domain, seed: int | None = None):
        self.domain = domain
        self._random = random.Random(seed)

    def candidates(self, name: str, slots: dict[str, Any], channel: str | None) -> list[dict]:
        variations = self.domain.responses.get(name, [])
        conditional = [v for v in variations if v.get("condition") and _condition_holds(v["condition"], slots)]
        pool = conditional or [v for v in variations if not v.get("condition")]
        for_channel = [v for v in pool if v.get("channel") == channel]
        return for_channel or [v for v in pool if not v.get("channel")]

    def generate(self, name: str, slots: dict[str, Any], channel: str | None = None, **kwargs: Any) -> dict | None:
        """A message dict (``text``, ``buttons``, ``custom``, ...) or None if the response is unknown."""
        options = self.candidates(name, slots, channel)
        if not options:
            text = DEFAULT_TEXTS.get(name)
            return {"text": text, "response": name} if text else None
        chosen = dict(self._random.choice(options))
        values = {**slots, **kwargs}
        message: dict[str, Any] = {"response": name}
        for key, value in chosen.items():
            if key in ("condition", "channel"):
                continue
            message[key] = fill_template(value, values) if key == "text" and isinstance(value, str) else value
        if "buttons" in message:
            message["buttons"] = [{**b, "title": fill_template(str(b.get("title", "")), values)}
                                  for b in message["buttons"]]
        return message
