"""Keep secrets out of stored conversations.

A caller who says or keys a PIN answers a question for a sensitive slot; the
turn is processed with the real value, but what is persisted (and so what
transcripts, the tracker API and handoff summaries show) has it masked. Card
numbers, PINs and dates of birth said anywhere else (``bot.security.pii``) are
masked in every turn: in the caller's words, the entities found in them, slot
values and the bot's replies.
"""
from __future__ import annotations

import dataclasses

from bot.core.events import BotUttered, Event, SlotSet, UserUttered
from bot.security.pii import MASK, find_pii, mask_pii, mask_value


def _sensitive_turn(events: list[Event], sensitive_slots: set[str], requested_slot: str | None) -> bool:
    """A turn that answered a question for a sensitive slot, or set one."""
    return requested_slot in sensitive_slots or any(
        isinstance(e, SlotSet) and e.name in sensitive_slots and e.value is not None for e in events)


def redact_turn(events: list[Event], sensitive_slots: set[str], requested_slot: str | None) -> list[Event]:
    """The turn as it may be stored: a sensitive turn wholly masked, any other with its secrets masked."""
    if _sensitive_turn(events, sensitive_slots, requested_slot):
        return [_masked(e, sensitive_slots) for e in events]
    return [_secrets_masked(e) for e in events]


def _masked(event: Event, sensitive_slots: set[str]) -> Event:
    if isinstance(event, UserUttered):
        parse_data = {**event.parse_data, "text": MASK,
                      "entities": [_masked_entity(e) for e in event.parse_data.get("entities", [])]}
        return dataclasses.replace(event, text=MASK, parse_data=parse_data)
    if isinstance(event, SlotSet) and event.name in sensitive_slots and event.value is not None:
        return dataclasses.replace(event, value=MASK)
    return _secrets_masked(event)


def _secrets_masked(event: Event) -> Event:
    if isinstance(event, UserUttered):
        spans = find_pii(event.text or "")
        entities = event.parse_data.get("entities") or []
        masked_entities = [_masked_entity(e) if _overlaps(e, spans) else mask_value(e) for e in entities]
        metadata = mask_value(event.metadata)  # a client's metadata is the client's words too
        if not spans and masked_entities == entities and metadata == event.metadata:
            return event
        text = mask_pii(event.text) if event.text else event.text
        return dataclasses.replace(event, text=text, metadata=metadata,
                                   parse_data={**event.parse_data, "text": text, "entities": masked_entities})
    if isinstance(event, BotUttered) and event.text:
        text = mask_pii(event.text)
        return event if text == event.text else dataclasses.replace(event, text=text, data=mask_value(event.data))
    if isinstance(event, SlotSet) and event.value is not None:
        value = mask_value(event.value)
        return event if value == event.value else dataclasses.replace(event, value=value)
    return event


def _overlaps(entity: dict, spans) -> bool:
    start, end = entity.get("start"), entity.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return False
    return any(span.start < end and start < span.end for span in spans)


def _masked_entity(entity: dict) -> dict:
    """Keep what the entity was, not what it said (extractors may echo the value in other fields)."""
    kept = {k: entity[k] for k in ("entity", "start", "end", "extractor", "role", "group") if k in entity}
    return {**kept, "value": MASK}
