"""Rasa 3.x ``stories:`` and ``rules:`` (and test stories) as typed steps.

The reader keeps the story structure (checkpoints, ``or`` blocks, rule
conditions); turning steps into dialogue events is the dialogue engine's job.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from bot.training_data.nlu_data import parse_annotated_text
from bot.training_data.yaml_reader import TrainingDataError, line_of, plain

_INTENT_TRIGGER = re.compile(r"^/(?P<intent>[^{@\s]+)(?P<entities>\{.*\})?$")


@dataclass
class UserStep:
    intent: str | None
    entities: list[dict] = field(default_factory=list)
    text: str | None = None
    line: int | None = None


@dataclass
class ActionStep:
    name: str | None
    bot_text: str | None = None
    line: int | None = None


@dataclass
class SlotStep:
    slots: dict[str, Any]
    line: int | None = None


@dataclass
class LoopStep:
    name: str | None
    line: int | None = None


@dataclass
class CheckpointStep:
    name: str
    line: int | None = None


@dataclass
class OrStep:
    alternatives: list[Union[UserStep, SlotStep]]
    line: int | None = None


Step = Union[UserStep, ActionStep, SlotStep, LoopStep, CheckpointStep, OrStep]
SLOT_FILLED = "filled"  # value Rasa assumes for ``slot_was_set: - name`` without a value


@dataclass
class Story:
    name: str
    steps: list[Step]
    is_rule: bool = False
    conditions: list[Step] = field(default_factory=list)
    conversation_start: bool = False
    wait_for_user_input: bool = True
    path: str = ""
    line: int | None = None

    @property
    def origin(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def _user_step(item: dict, path: Path) -> UserStep:
    line = line_of(item)
    intent = item.get("intent")
    entities = _step_entities(item.get("entities"), path, line)
    text = None
    if item.get("user") is not None:
        text, annotated = parse_annotated_text(str(item["user"]).strip(), path, line)
        if not entities:
            entities = annotated
        trigger = parse_intent_trigger(text)
        if trigger and intent is None:
            intent = trigger[0]
        if trigger and not entities:
            entities = [{"entity": str(name), "value": plain(value)} for name, value in trigger[1].items()]
    return UserStep(str(intent) if intent is not None else None, entities, text, line)


def _step_entities(raw: Any, path: Path, line: int | None) -> list[dict]:
    """``entities:`` under a story step: names, ``name: value`` pairs or full dicts."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise TrainingDataError("'entities' must be a list", path, line)
    entities = []
    for entry in raw:
        if isinstance(entry, str):
            entities.append({"entity": str(entry)})
        elif isinstance(entry, dict) and "entity" in entry:
            entities.append({k: plain(v) for k, v in entry.items()})
        elif isinstance(entry, dict) and len(entry) == 1:
            name, value = next(iter(entry.items()))
            entities.append({"entity": str(name), "value": plain(value)})
        else:
            raise TrainingDataError("each entity must be a name, 'name: value' or a mapping with 'entity'",
                                    path, line_of(entry, line))
    return entities


def _slot_step(raw: Any, path: Path, line: int | None) -> SlotStep:
    slots: dict[str, Any] = {}
    for entry in raw if isinstance(raw, list) else [raw]:
        if isinstance(entry, str):
            slots[str(entry)] = SLOT_FILLED
        elif isinstance(entry, dict):
            for name, value in entry.items():
                slots[str(name)] = plain(value)
        else:
            raise TrainingDataError("'slot_was_set' must list slot names or 'slot: value' pairs", path, line)
    return SlotStep(slots, line)


def _step(item: Any, path: Path) -> Step:
    if not isinstance(item, dict):
        raise TrainingDataError("each step must be a mapping such as 'intent: greet' or 'action: utter_greet'",
                                path, line_of(item))
    line = line_of(item)
    if "intent" in item or "user" in item:
        return _user_step(item, path)
    if "action" in item:
        return ActionStep(str(item["action"]), None, line)
    if "bot" in item:
        return ActionStep(None, str(item["bot"]), line)
    if "slot_was_set" in item:
        return _slot_step(item["slot_was_set"], path, line)
    if "active_loop" in item:
        return LoopStep(None if item["active_loop"] is None else str(item["active_loop"]), line)
    if "checkpoint" in item:
        return CheckpointStep(str(item["checkpoint"]), line)
    if "or" in item:
        alternatives = [_step(alt, path) for alt in item["or"] or []]
        if not alternatives or not all(isinstance(a, (UserStep, SlotStep)) for a in alternatives):
            raise TrainingDataError("'or' must list intents or slot_was_set alternatives", path, line)
        return OrStep(alternatives, line)
    raise TrainingDataError(f"unknown step {sorted(map(str, item))}: use intent, action, bot, slot_was_set, "
                            "active_loop, checkpoint or or", path, line)


def read_story_items(items: Any, path: Path, is_rule: bool) -> list[Story]:
    """Read the list under a ``stories:`` or ``rules:`` key."""
    kind = "rule" if is_rule else "story"
    if items is None:
        return []
    if not isinstance(items, list):
        raise TrainingDataError(f"'{kind}s' must be a list", path, line_of(items))
    stories = []
    for item in items:
        if not isinstance(item, dict) or kind not in item:
            raise TrainingDataError(f"each entry needs a '{kind}' name", path, line_of(item))
        steps_raw = item.get("steps")
        if not isinstance(steps_raw, list):
            raise TrainingDataError(f"{kind} '{item[kind]}' needs a list of 'steps'", path, line_of(item))
        conditions = []
        for condition in item.get("condition") or []:
            step = _step(condition, path)
            if not isinstance(step, (SlotStep, LoopStep)):
                raise TrainingDataError("a rule condition may only use slot_was_set and active_loop",
                                        path, line_of(condition))
            conditions.append(step)
        stories.append(Story(
            name=str(item[kind]),
            steps=[_step(s, path) for s in steps_raw],
            is_rule=is_rule,
            conditions=conditions,
            conversation_start=bool(item.get("conversation_start", False)),
            wait_for_user_input=bool(item.get("wait_for_user_input", True)),
            path=str(path),
            line=line_of(item),
        ))
    return stories


def parse_intent_trigger(text: str) -> tuple[str, dict] | None:
    """``/inform{"digits": "4729"}`` -> ("inform", {"digits": "4729"}); None for ordinary text."""
    match = _INTENT_TRIGGER.match(text.strip())
    if not match:
        return None
    entities = {}
    if match.group("entities"):
        try:
            entities = json.loads(match.group("entities"))
        except json.JSONDecodeError:
            return None
        if not isinstance(entities, dict):
            return None
    return match.group("intent"), entities
