"""Rasa 3's ``action_extract_slots``: fill slots from the latest message by their mappings.

Runs after every user message. Mappings are tried in order (the first one that
yields a value wins); ``conditions`` restrict a mapping to an active loop and
requested slot; an entity that several slots of the active form map is only
used for the slot being asked for. Protected slots (``Domain.protected_slots``:
``verified``, ``customer_id``...) are never filled from a message: only actions
set them, so no entity a client sends can vouch for a caller.
"""
from __future__ import annotations

from typing import Any

from bot.core.events import SlotSet
from bot.core.tracker import DialogueStateTracker
from bot.training_data.domain import Domain, REQUESTED_SLOT, SlotDef, SlotMapping

NOT_EXTRACTED = object()


def intent_is_desired(mapping: SlotMapping, tracker: DialogueStateTracker, domain: Domain) -> bool:
    intent = tracker.latest_message.intent_name if tracker.latest_message else None
    not_intents = set(mapping.not_intent)
    form = domain.forms.get(tracker.active_loop_name or "")
    if form is not None:
        not_intents |= set(form.ignored_intents)
    if mapping.intent:
        return intent in mapping.intent
    return intent not in not_intents


def conditions_hold(mapping: SlotMapping, tracker: DialogueStateTracker) -> bool:
    if not mapping.conditions:
        return True
    return any(
        c.get("active_loop") == tracker.active_loop_name
        and ("requested_slot" not in c or c["requested_slot"] == tracker.requested_slot)
        for c in mapping.conditions
    )


def _entity_is_shared_in_form(slot: SlotDef, mapping: SlotMapping, tracker: DialogueStateTracker,
                              domain: Domain) -> bool:
    """True when another slot of the active form maps the same entity and this slot is not the one asked for."""
    form = domain.forms.get(tracker.active_loop_name or "")
    if form is None or slot.name not in form.required_slots or tracker.requested_slot == slot.name:
        return False
    for other in form.required_slots:
        if other == slot.name or other not in domain.slots:
            continue
        for m in domain.slots[other].mappings:
            if m.type == "from_entity" and (m.entity, m.role, m.group) == (mapping.entity, mapping.role, mapping.group):
                return True
    return False


def mapping_value(slot: SlotDef, mapping: SlotMapping, tracker: DialogueStateTracker, domain: Domain,
                  activating_form: str | None = None) -> Any:
    """The value one mapping extracts from the latest message, or NOT_EXTRACTED."""
    message = tracker.latest_message
    if message is None or not intent_is_desired(mapping, tracker, domain):
        return NOT_EXTRACTED
    if mapping.type == "from_trigger_intent":
        form = domain.forms.get(activating_form or "")
        return mapping.value if form is not None and slot.name in form.required_slots else NOT_EXTRACTED
    if not conditions_hold(mapping, tracker):
        return NOT_EXTRACTED
    if mapping.type == "from_entity":
        if _entity_is_shared_in_form(slot, mapping, tracker, domain):
            return NOT_EXTRACTED
        values = tracker.get_latest_entity_values(mapping.entity, mapping.role, mapping.group)
        if not values:
            return NOT_EXTRACTED
        return values if slot.type == "list" else values[-1]
    if mapping.type == "from_intent":
        return mapping.value
    if mapping.type == "from_text":
        return message.text if message.text else NOT_EXTRACTED
    return NOT_EXTRACTED


def extract_slots(tracker: DialogueStateTracker, domain: Domain, activating_form: str | None = None) -> list[SlotSet]:
    """SlotSet events for every slot (protected ones aside) that a mapping fills from the latest message."""
    events = []
    for slot in domain.slots.values():
        if slot.name == REQUESTED_SLOT or slot.protected:
            continue
        value = next((v for v in (mapping_value(slot, m, tracker, domain, activating_form) for m in slot.mappings)
                      if v is not NOT_EXTRACTED), NOT_EXTRACTED)
        if value is not NOT_EXTRACTED:
            events.append(SlotSet(name=slot.name, value=value))
    return events


def custom_mapping_actions(domain: Domain) -> list[str]:
    """Custom actions named in ``custom`` slot mappings; they run after every user message."""
    names: list[str] = []
    for slot in domain.slots.values():
        for mapping in slot.mappings:
            if mapping.type == "custom" and mapping.action and mapping.action not in names:
                names.append(mapping.action)
    return names
