"""The bot's side of the call history: what a channel reports about each call, and the bot's decisions in a turn.

Channels (the voice gateway) tell a ``CallJournal`` when a call starts, each line said in it and
when it ends; the composition root plugs in the implementation that keeps call records, so the
bot and its channels never depend on where or how those are stored. ``turn_decisions`` reads what
the bot decided in its last turn from the stored (already redacted) tracker: the intent and its
confidence, the actions run, the knowledge article, fallbacks, the slots it set.
"""
from __future__ import annotations

from typing import Any, Protocol

from bot.core.events import ActionExecuted, SlotSet, UserUttered
from bot.security.pii import MASK, mask_value

ACTION_LISTEN = "action_listen"
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback", "action_fallback"}
KNOWLEDGE_SLOTS = {"knowledge_article": "article", "knowledge_outcome": "knowledge"}
KNOWLEDGE_OUTCOMES = {"answered": "answered", "miss": "missed"}
QUIET_ACTIONS = {ACTION_LISTEN, "action_session_start"}


class CallJournal(Protocol):
    async def call_started(self, call_id: str, channel: str, caller_number: str | None, started_at: float) -> None:
        """A call was answered (epoch seconds)."""

    async def line(self, call_id: str, speaker: str, text: str, at: float, **decisions: Any) -> None:
        """One line of the call, ``at`` seconds from its start; ``decisions`` as ``turn_decisions`` gives them,
        plus ``barge_in`` and ``sensitive`` (the text is a secret's answer: kept masked)."""

    async def call_ended(self, call_id: str, ended_at: float, recordings: dict[str, str]) -> None:
        """The line closed; ``recordings``: leg -> file name under the recordings folder."""


class NoJournal:
    """Where no call history is kept (a bot without the contact centre)."""

    async def call_started(self, call_id, channel, caller_number, started_at) -> None:
        pass

    async def line(self, call_id, speaker, text, at, **decisions) -> None:
        pass

    async def call_ended(self, call_id, ended_at, recordings) -> None:
        pass


def _last_turn(events: list) -> list:
    """The events of the newest turn: back from the end to the ``action_listen`` that opened it."""
    tail = events[:-1] if events and isinstance(events[-1], ActionExecuted) and events[-1].name == ACTION_LISTEN \
        else events
    start = len(tail)
    while start > 0 and not (isinstance(tail[start - 1], ActionExecuted) and tail[start - 1].name == ACTION_LISTEN):
        start -= 1
    return tail[start:]


def turn_decisions(tracker, sensitive_slots: set[str] = frozenset()) -> dict[str, Any]:
    """What the bot made of the newest turn: intent, confidence, actions, article, knowledge, fallback, slots."""
    decisions: dict[str, Any] = {"actions": [], "slots": {}, "fallback": False}
    for event in _last_turn(tracker.events):
        if isinstance(event, UserUttered):
            intent = event.parse_data.get("intent") or {}
            decisions["intent"] = intent.get("name")
            confidence = intent.get("confidence")
            decisions["confidence"] = round(float(confidence), 4) if confidence is not None else None
            decisions["fallback"] |= decisions["intent"] == FALLBACK_INTENT
        elif isinstance(event, ActionExecuted) and event.name not in QUIET_ACTIONS:
            decisions["actions"].append(event.name)
            decisions["fallback"] |= event.name in FALLBACK_ACTIONS
        elif isinstance(event, SlotSet):
            if event.name in KNOWLEDGE_SLOTS:
                value = KNOWLEDGE_OUTCOMES.get(event.value, event.value) if event.name == "knowledge_outcome" \
                    else event.value
                decisions[KNOWLEDGE_SLOTS[event.name]] = value
            else:
                decisions["slots"][event.name] = MASK if event.name in sensitive_slots and event.value \
                    is not None else mask_value(event.value)
    return decisions
