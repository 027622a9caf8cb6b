"""Turn stories into event sequences the policies learn from.

``or`` blocks branch, checkpoints glue a story ending in ``checkpoint: X`` to
the stories that start with it (bounded, so cyclic checkpoints terminate).
"""
from __future__ import annotations

import itertools
from typing import Iterable

from bot.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from bot.core.tracker import ACTION_LISTEN
from bot.training_data.domain import Domain
from bot.training_data.retrieval import action_base, base_intent, is_full_retrieval_intent
from bot.training_data.stories import (
    ActionStep, CheckpointStep, LoopStep, OrStep, SlotStep, Story, Step, UserStep,
)

MAX_TRACKERS = 2000
MAX_CHECKPOINT_DEPTH = 4


RETRIEVAL_RESPONSE = "retrieval_response"  # ActionExecuted metadata: the full response a story named


def user_event(step: UserStep, keep_text: bool = False) -> UserUttered:
    """The user turn of a story step; ``intent: faq/ask_name`` is the intent ``faq`` to the dialogue, as in Rasa."""
    entities = [{k: v for k, v in e.items() if k in ("entity", "value", "role", "group", "start", "end")}
                for e in step.entities]
    intent = {}
    if step.intent:
        intent = {"name": base_intent(step.intent), "confidence": 1.0}
        if is_full_retrieval_intent(step.intent):
            intent["full_retrieval_intent_name"] = step.intent
    parse_data = {"intent": intent, "entities": entities, "text": step.text if keep_text else None}
    return UserUttered(text=step.text if keep_text else None, parse_data=parse_data)


def action_event(step: ActionStep) -> ActionExecuted:
    """``action: utter_faq/ask_name`` is the retrieval action ``utter_faq``; the full name is kept for tests."""
    name = action_base(step.name) if step.name else None
    metadata = {RETRIEVAL_RESPONSE: step.name} if step.name and name != step.name else {}
    return ActionExecuted(name=name, action_text=step.bot_text, metadata=metadata)


def step_events(step: Step, keep_text: bool = False) -> list[Event]:
    """Events for one non-branching step (a user step gets its preceding listen elsewhere)."""
    if isinstance(step, UserStep):
        return [user_event(step, keep_text)]
    if isinstance(step, ActionStep):
        return [action_event(step)]
    if isinstance(step, SlotStep):
        return [SlotSet(name=name, value=value) for name, value in step.slots.items()]
    if isinstance(step, LoopStep):
        return [ActiveLoop(name=step.name)]
    return []


def slots_for_entities(entities: list[dict], domain: Domain) -> list[SlotSet]:
    """Slots that a user turn's entities fill by unconditional from_entity mappings (Rasa 3 does this in stories)."""
    events = []
    for slot in domain.slots.values():
        values = [e.get("value") for mapping in slot.mappings
                  if mapping.type == "from_entity" and not any(c.get("active_loop") for c in mapping.conditions)
                  for e in entities
                  if e.get("entity") == mapping.entity and e.get("role") == mapping.role
                  and e.get("group") == mapping.group]
        if values:
            events.append(SlotSet(name=slot.name, value=values if slot.type == "list" else values[-1]))
    return events


def explicit_events(events: list[Event], domain: Domain, final_listen: bool) -> list[Event]:
    """Add what stories leave implicit: listens before user turns, entity slots, the final listen."""
    result = with_listens(events)
    expanded: list[Event] = []
    for event in result:
        expanded.append(event)
        if isinstance(event, UserUttered):
            expanded.extend(slots_for_entities(event.entities, domain))
    if final_listen:
        expanded = close_with_listen(expanded)
    return expanded


def with_listens(events: list[Event]) -> list[Event]:
    """Insert ``action_listen`` before every user turn that does not already follow one."""
    result: list[Event] = []
    last_action: str | None = None
    for event in events:
        if isinstance(event, UserUttered) and last_action != ACTION_LISTEN:
            result.append(ActionExecuted(name=ACTION_LISTEN))
        if isinstance(event, ActionExecuted):
            last_action = event.name
        elif isinstance(event, UserUttered):
            last_action = None
        result.append(event)
    return result


def linear_variants(steps: list[Step], keep_text: bool = False) -> list[list[Event]]:
    """All event sequences of a step list, one per combination of ``or`` alternatives."""
    options: list[list[list[Event]]] = []
    for step in steps:
        if isinstance(step, OrStep):
            options.append([step_events(alt, keep_text) for alt in step.alternatives])
        elif not isinstance(step, CheckpointStep):
            options.append([step_events(step, keep_text)])
    variants = []
    for combination in itertools.islice(itertools.product(*options), MAX_TRACKERS):
        variants.append([e for part in combination for e in part])
    return variants


def _split_checkpoints(story: Story) -> tuple[list[str], list[Step], list[str]]:
    start: list[str] = []
    steps = list(story.steps)
    while steps and isinstance(steps[0], CheckpointStep):
        start.append(steps.pop(0).name)
    end: list[str] = []
    while steps and isinstance(steps[-1], CheckpointStep):
        end.insert(0, steps.pop().name)
    return start, steps, end


def story_trackers(stories: Iterable[Story], domain: Domain, keep_text: bool = False) -> list[tuple[str, list[Event]]]:
    """Complete event sequences (named after their stories) that start at a conversation start."""
    parts = [(story, *_split_checkpoints(story)) for story in stories]
    by_start: dict[str, list] = {}
    for part in parts:
        for checkpoint in part[1]:
            by_start.setdefault(checkpoint, []).append(part)
    results: list[tuple[str, list[Event]]] = []

    def walk(name: str, prefix: list[Event], part, depth: int) -> None:
        story, _, steps, end = part
        for variant in linear_variants(steps, keep_text):
            if len(results) >= MAX_TRACKERS:
                return
            events = prefix + variant
            followers = [f for checkpoint in end for f in by_start.get(checkpoint, [])]
            if followers and depth < MAX_CHECKPOINT_DEPTH:
                for follower in followers:
                    walk(f"{name} > {follower[0].name}", events, follower, depth + 1)
            else:
                results.append((name, explicit_events(events, domain, final_listen=True)))

    for part in parts:
        if not part[1]:
            walk(part[0].name, [], part, 0)
    return results


def close_with_listen(events: list[Event]) -> list[Event]:
    """A story that ends on a bot action waits for the user next."""
    if events and isinstance(events[-1], ActionExecuted) and events[-1].name != ACTION_LISTEN:
        return [*events, ActionExecuted(name=ACTION_LISTEN)]
    return events
