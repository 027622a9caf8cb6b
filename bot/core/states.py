"""Dialogue states: what the policies look at, in Rasa's state vocabulary.

One state per prediction point, each with the sub-states ``user`` (intent and
entity names), ``prev_action``, ``active_loop`` and ``slots`` (featurized slot
values). Memoization and the generalizing policy read full states; rules read
partial ones (see ``rule_policy``).
"""
from __future__ import annotations

import json
from typing import Any

from bot.core.tracker import DialogueStateTracker
from bot.training_data.domain import Domain

State = dict[str, Any]


def user_sub_state(tracker: DialogueStateTracker, domain: Domain) -> dict:
    message = tracker.latest_message
    if message is None:
        return {}
    intent = message.intent_name
    if intent is None:
        return {"text": message.text} if message.text else {}
    sub: dict[str, Any] = {"intent": intent}
    entities = entity_features(message.entities, intent, domain)
    if entities:
        sub["entities"] = entities
    return sub


def entity_features(entities: list[dict], intent: str, domain: Domain) -> tuple[str, ...]:
    """Entity names (and ``name#role``/``name#group``) that this intent lets influence the dialogue."""
    intent_def = domain.intents.get(intent)
    used = intent_def.entities_used(domain.entities) if intent_def else set(domain.entities)
    names: set[str] = set()
    for entity in entities:
        name = entity.get("entity")
        if name not in used:
            continue
        names.add(name)
        for key in ("role", "group"):
            if entity.get(key):
                names.add(f"{name}#{entity[key]}")
    return tuple(sorted(names))


def active_state(tracker: DialogueStateTracker, domain: Domain) -> State:
    """The state the next action is predicted from."""
    state: State = {}
    user = user_sub_state(tracker, domain)
    if user:
        state["user"] = user
    if tracker.latest_action_name:
        state["prev_action"] = {"action_name": tracker.latest_action_name}
    if tracker.active_loop_name:
        state["active_loop"] = {"name": tracker.active_loop_name}
    slots = {}
    for name, slot in domain.slots.items():
        feature = slot.feature(tracker.slots.get(name))
        if feature is not None:
            slots[name] = feature
    if slots:
        state["slots"] = slots
    return state


def past_states(tracker: DialogueStateTracker) -> list[State]:
    """States before each applied action plus the current one."""
    return [active_state(prior, tracker.domain) for prior, _ in tracker.prior_states_iter()]


def training_examples(tracker: DialogueStateTracker) -> list[tuple[list[State], str]]:
    """(states so far, action taken) for every action of a training tracker."""
    examples = []
    history: list[State] = []
    for prior, action in tracker.prior_states_iter():
        history.append(active_state(prior, tracker.domain))
        if action is not None and action.name:
            examples.append((list(history), action.name))
    return examples


def states_key(states: list[State]) -> str:
    """A canonical string for a sequence of states (lookup-table key)."""
    return json.dumps(states, sort_keys=True, default=list)
