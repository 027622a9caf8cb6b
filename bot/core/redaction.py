"""Keep secrets out of stored conversations.

A caller who says or keys a PIN answers a question for a sensitive slot; the
turn is processed with the real value, but what is persisted (and so what
transcripts, the tracker API and handoff summaries show) has it masked.
"""
from __future__ import annotations

import dataclasses

from bot.core.events import Event, SlotSet, UserUttered

MASK = "[redacted]"


def redact_turn(events: list[Event], sensitive_slots: set[str], requested_slot: str | None) -> list[Event]:
    """Mask the user's words and the slot values of a turn that touched a sensitive slot."""
    if not sensitive_slots:
        return events
    touched = requested_slot in sensitive_slots or any(
        isinstance(e, SlotSet) and e.name in sensitive_slots and e.value is not None for e in events)
    if not touched:
        return events
    return [_masked(e, sensitive_slots) for e in events]


def _masked(event: Event, sensitive_slots: set[str]) -> Event:
    if isinstance(event, UserUttered):
        parse_data = {**event.parse_data, "text": MASK,
                      "entities": [_masked_entity(e) for e in event.parse_data.get("entities", [])]}
        return dataclasses.replace(event, text=MASK, parse_data=parse_data)
    if isinstance(event, SlotSet) and event.name in sensitive_slots and event.value is not None:
        return dataclasses.replace(event, value=MASK)
    return event


def _masked_entity(entity: dict) -> dict:
    """Keep what the entity was, not what it said (extractors may echo the value in other fields)."""
    kept = {k: entity[k] for k in ("entity", "start", "end", "extractor", "role", "group") if k in entity}
    return {**kept, "value": MASK}
