"""Turns from real conversations that the NLU did not understand well: what editors can teach it next.

A caller's turn is worth teaching when the NLU fell back (``nlu_fallback``, or the bot ran a fallback
action right after it) or was unsure (top intent below the low-confidence threshold). The text comes
from the tracker store as stored, so a turn that answered a sensitive slot (a PIN) is already masked
there and is left out; so is any text already in the training data.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bot.core.events import ActionExecuted, Event, UserUttered
from bot.core.tracker_store import TrackerStore
from bot.core.tracker import ACTION_LISTEN
from bot.nlu.interpreter import FALLBACK_INTENT

FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})
MAX_CONVERSATIONS = 500
MAX_TURNS = 200
MAX_SUGGESTIONS = 3


@dataclass
class LearnableTurn:
    text: str
    conversation: str
    at: float
    reason: str                # "fallback" or "low confidence"
    intent: str | None
    confidence: float | None
    suggestions: list[dict] = field(default_factory=list)  # the NLU's best real intents, best first
    count: int = 1             # how many stored turns said the same

    def as_dict(self) -> dict:
        return asdict(self)


def normalized(text: str) -> str:
    return " ".join(text.lower().split())


def teachable(text: str | None) -> bool:
    """Plain words a caller said: not masked, not a keypad/button trigger, nothing an annotation would parse."""
    return bool(text and text.strip()) and not text.startswith("/") and not any(c in text for c in "[]{}")


def learnable_turns_of(conversation: str, events: list[Event], threshold: float,
                       fallback_actions: frozenset[str]) -> list[LearnableTurn]:
    found = []
    for index, event in enumerate(events):
        if not isinstance(event, UserUttered) or not teachable(event.text):
            continue
        intent = event.parse_data.get("intent") or {}
        name, confidence = intent.get("name"), intent.get("confidence")
        answered_by = next((e.name for e in events[index + 1:]
                            if isinstance(e, ActionExecuted) and e.name != ACTION_LISTEN), None)
        if name == FALLBACK_INTENT or answered_by in fallback_actions:
            reason = "fallback"
        elif confidence is not None and confidence < threshold:
            reason = "low confidence"
        else:
            continue
        ranking = [r for r in event.parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        found.append(LearnableTurn(event.text.strip(), conversation, event.timestamp, reason, name, confidence,
                                   [{"name": r.get("name"), "confidence": r.get("confidence")}
                                    for r in ranking[:MAX_SUGGESTIONS]]))
    return found


async def learnable_turns(store: TrackerStore, threshold: float, fallback_actions: frozenset[str],
                          known_texts: set[str]) -> list[dict]:
    """The newest learnable turns, one row per distinct text (newest occurrence, with a count).

    Reads at most ``MAX_CONVERSATIONS`` conversations (the last ones by id) so the page stays quick on a
    large store.
    """
    keys = await store.keys()
    by_text: dict[str, LearnableTurn] = {}
    for key in keys[-MAX_CONVERSATIONS:]:
        for turn in learnable_turns_of(key, await store.retrieve(key) or [], threshold, fallback_actions):
            text = normalized(turn.text)
            if text in known_texts:
                continue
            seen = by_text.get(text)
            if seen is None or turn.at > seen.at:
                turn.count += seen.count if seen else 0
                by_text[text] = turn
            else:
                seen.count += 1
    turns = sorted(by_text.values(), key=lambda t: t.at, reverse=True)[:MAX_TURNS]
    return [t.as_dict() for t in turns]
