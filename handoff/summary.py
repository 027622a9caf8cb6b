"""What the agent sees when the call pops up: who is calling, why, and what the bot already did.

Built from the tracker JSON the bot hands over (``HandoffRequest.tracker``),
which still holds this turn's unmasked values: every turn that touched a
sensitive slot is masked here with the bot's own redaction, so PINs and dates
of birth never reach the agent's screen, the CRM webhook or the call records.
The shape is ``docs/handoff_summary.schema.json``.
"""
from __future__ import annotations

import re
from typing import Any

from bot.core.escalation import DEFAULT_FRUSTRATION_WORDS, EscalationPolicy, caller_number, frustration_hits
from bot.core.events import BotUttered, Event, SlotSet, UserUttered, events_from_dicts
from bot.core.redaction import redact_turn
from bot.training_data.domain import HANDOFF_REASON_SLOT, REQUESTED_SLOT, SESSION_START_METADATA_SLOT

INTERNAL_SLOTS = {REQUESTED_SLOT, SESSION_START_METADATA_SLOT, HANDOFF_REASON_SLOT}
POSITIVE_WORDS = ("thanks", "thank you", "great", "good", "perfect", "lovely", "appreciate", "helpful")
NEGATIVE_WORDS = DEFAULT_FRUSTRATION_WORDS + ("late", "broken", "wrong", "bad", "missing", "never arrived",
                                              "complaint", "unhappy", "disappointed", "upset")


def build_summary(state: dict, reason: str, skill: str, policy: EscalationPolicy,
                  sensitive_slots: set[str]) -> dict[str, Any]:
    events = redacted_events(state, sensitive_slots)
    user_turns = [e for e in events if isinstance(e, UserUttered)]
    slots = _slots_learned(events, sensitive_slots)
    times = [e.timestamp for e in events if getattr(e, "timestamp", None)]
    summary = {
        "call_id": state.get("sender_id", ""),
        "reason": reason,
        "skill": skill,
        "caller": {
            "number": caller_number(state),
            "verified": bool(slots.get("verified")),
            "vip": policy.is_vip(state),
            "customer": ({"customer_id": str(slots["customer_id"]),
                          "first_name": slots.get("customer_first_name")} if slots.get("customer_id") else None),
        },
        "intents": _intents(user_turns),
        "slots": slots,
        "orders_looked_up": _values_set(events, "order_number", sensitive_slots),
        "accounts_looked_up": _values_set(events, "customer_id", sensitive_slots),
        "knowledge_articles": _values_set(events, "knowledge_article", sensitive_slots),
        "sentiment": sentiment([e.text or "" for e in user_turns]),
        "ivr_seconds": round(max(times) - min(times), 1) if times else 0.0,
        "transcript": _transcript(events),
    }
    summary["text"] = summary_text(summary)
    return summary


def redacted_events(state: dict, sensitive_slots: set[str]) -> list[Event]:
    """The conversation with each turn that touched a sensitive slot masked, as the tracker store keeps it."""
    events = events_from_dicts(state.get("events") or [])
    result: list[Event] = []
    turn: list[Event] = []
    requested: str | None = None
    turn_requested: str | None = None
    for event in events:
        if isinstance(event, UserUttered):
            result += redact_turn(turn, sensitive_slots, turn_requested)
            turn, turn_requested = [], requested
        turn.append(event)
        if isinstance(event, SlotSet) and event.name == REQUESTED_SLOT:
            requested = event.value
    return result + redact_turn(turn, sensitive_slots, turn_requested)


def sentiment(texts: list[str]) -> dict[str, Any]:
    """A keyword score in [-1, 1]: enough to warn the agent that the caller is upset."""
    positive = sum(frustration_hits(t, POSITIVE_WORDS) for t in texts)
    negative = sum(frustration_hits(t, NEGATIVE_WORDS) for t in texts)
    score = (positive - negative) / max(1, positive + negative)
    label = "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"
    return {"score": round(score, 2), "label": label}


def summary_text(summary: dict[str, Any]) -> str:
    """One paragraph the agent can read in five seconds."""
    caller = summary["caller"]
    who = caller["number"] or "An unknown number"
    customer = caller["customer"]
    if customer:
        who += f" ({customer.get('first_name') or 'customer'} {customer['customer_id']}"
        who += ", verified)" if caller["verified"] else ", not verified)"
    else:
        who += " (no customer record" + (", verified)" if caller["verified"] else ", not verified)")
    parts = [f"{who}{' VIP' if caller['vip'] else ''} was handed over: {_words(summary['reason'])}."]
    if summary["intents"]:
        parts.append("Asked about " + ", then ".join(_words(i) for i in summary["intents"]) + ".")
    if summary["orders_looked_up"]:
        parts.append("Orders looked up: " + ", ".join(summary["orders_looked_up"]) + ".")
    if summary["knowledge_articles"]:
        parts.append("Articles already read out: " + ", ".join(summary["knowledge_articles"]) + ".")
    parts.append(f"Mood {summary['sentiment']['label']}; {round(summary['ivr_seconds'])} s with the bot.")
    last = next((t["text"] for t in reversed(summary["transcript"]) if t["speaker"] == "caller"), None)
    if last:
        parts.append(f'Last said: "{last}"')
    return " ".join(parts)


def _intents(user_turns: list[UserUttered]) -> list[str]:
    intents: list[str] = []
    for turn in user_turns:
        name = (turn.parse_data.get("intent") or {}).get("name")
        if name and (not intents or intents[-1] != name):
            intents.append(name)
    return intents


def _slots_learned(events: list[Event], sensitive_slots: set[str]) -> dict[str, Any]:
    """Each slot's last value in the conversation, even if a form cleared it later (the agent wants to know)."""
    slots: dict[str, Any] = {}
    for event in events:
        if isinstance(event, SlotSet) and event.name not in INTERNAL_SLOTS and event.value not in (None, "", [], {}):
            slots[event.name] = "[redacted]" if event.name in sensitive_slots else event.value
    return slots


def _values_set(events: list[Event], slot: str, sensitive_slots: set[str]) -> list[str]:
    values: list[str] = []
    for event in events:
        if isinstance(event, SlotSet) and event.name == slot and event.value not in (None, "") \
                and slot not in sensitive_slots and str(event.value) not in values:
            values.append(str(event.value))
    return values


def _transcript(events: list[Event]) -> list[dict[str, Any]]:
    lines = []
    for event in events:
        if isinstance(event, UserUttered) and event.text:
            lines.append({"speaker": "caller", "text": event.text, "at": event.timestamp})
        elif isinstance(event, BotUttered) and event.text:
            lines.append({"speaker": "bot", "text": event.text, "at": event.timestamp})
    return lines


def _words(name: str) -> str:
    return re.sub(r"[_-]+", " ", name)
