"""The Rasa 3.x domain: what the bot knows, says and remembers.

A domain may be split over several files (Rasa merges a ``domain/`` folder);
:func:`load_domain` merges them and every definition keeps the file and line
it came from so the validator can point editors at it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bot.training_data.retrieval import retrieval_action
from bot.training_data.yaml_reader import TrainingDataError, line_of, plain, read_yaml_file, within

# Slots, intents and actions every Helpline bot has, like Rasa's defaults.
REQUESTED_SLOT = "requested_slot"
SESSION_START_METADATA_SLOT = "session_started_metadata"
HANDOFF_REASON_SLOT = "handoff_reason"
# Slots that gate account data: only actions set them (never a client's events, ``/intent{...}``
# entities or NLU slot mappings). A domain marks others with ``protected: true`` (a Helpline key
# Rasa ignores), or lifts these with ``protected: false``.
DEFAULT_PROTECTED_SLOTS = frozenset({"verified", "customer_id"})
DEFAULT_INTENTS = ["restart", "back", "out_of_scope", "session_start", "nlu_fallback"]
DEFAULT_ACTIONS = [
    "action_listen",
    "action_restart",
    "action_session_start",
    "action_default_fallback",
    "action_deactivate_loop",
    "action_revert_fallback_events",
    "action_two_stage_fallback",
    "action_unlikely_intent",
    "action_back",
    "action_extract_slots",
    "action_handoff",
    "action_knowledge",
]
SLOT_TYPES = {"text", "bool", "categorical", "float", "list", "any"}
MAPPING_TYPES = {"from_entity", "from_text", "from_intent", "from_trigger_intent", "custom"}
_TEMPLATE_VARIABLE = re.compile(r"(?<!\{)\{([^{}\s]+)\}(?!\})")


@dataclass
class Origin:
    """Where a definition was written, for error messages."""

    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class IntentDef:
    name: str
    use_entities: list[str] | None = None  # None: all entities
    ignore_entities: list[str] = field(default_factory=list)
    origin: Origin = field(default_factory=Origin)

    def entities_used(self, all_entities: Iterable[str]) -> set[str]:
        """Entity names that feed the dialogue state for this intent (Rasa's use/ignore_entities)."""
        used = set(all_entities) if self.use_entities is None else set(self.use_entities)
        return used - set(self.ignore_entities)


@dataclass
class EntityDef:
    name: str
    roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    origin: Origin = field(default_factory=Origin)


@dataclass
class SlotMapping:
    type: str
    entity: str | None = None
    role: str | None = None
    group: str | None = None
    intent: list[str] = field(default_factory=list)
    not_intent: list[str] = field(default_factory=list)
    value: Any = None
    conditions: list[dict] = field(default_factory=list)
    action: str | None = None


@dataclass
class SlotDef:
    name: str
    type: str
    influence_conversation: bool
    mappings: list[SlotMapping] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    min_value: float = 0.0
    max_value: float = 1.0
    initial_value: Any = None
    protected: bool = False  # set only by actions
    origin: Origin = field(default_factory=Origin)

    def feature(self, value: Any) -> tuple[float, ...] | None:
        """How a slot value shows in the dialogue state, as Rasa featurizes it.

        ``None`` means the slot contributes nothing (unset, or not influencing).
        """
        if not self.influence_conversation or value is None:
            return None
        if self.type == "text":
            return (1.0,)
        if self.type == "list":
            return (1.0,) if value else None
        if self.type == "bool":
            truth = value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
            return (1.0, 1.0 if truth else 0.0)
        if self.type == "float":
            try:
                number = float(value)
            except (TypeError, ValueError):
                return (1.0,)
            span = (self.max_value - self.min_value) or 1.0
            return (min(1.0, max(0.0, (number - self.min_value) / span)),)
        if self.type == "categorical":
            lowered = [v.lower() for v in self.values]
            one_hot = [0.0] * (len(self.values) + 1)
            text = str(value).lower()
            one_hot[lowered.index(text) if text in lowered else len(self.values)] = 1.0
            return tuple(one_hot)
        return (1.0,)


@dataclass
class FormDef:
    name: str
    required_slots: list[str]
    ignored_intents: list[str] = field(default_factory=list)
    origin: Origin = field(default_factory=Origin)


@dataclass
class SessionConfig:
    session_expiration_time: float = 60.0  # minutes; 0 disables expiry
    carry_over_slots_to_new_session: bool = True


@dataclass
class Domain:
    intents: dict[str, IntentDef] = field(default_factory=dict)
    entities: dict[str, EntityDef] = field(default_factory=dict)
    slots: dict[str, SlotDef] = field(default_factory=dict)
    responses: dict[str, list[dict]] = field(default_factory=dict)
    response_origins: dict[str, Origin] = field(default_factory=dict)
    forms: dict[str, FormDef] = field(default_factory=dict)
    custom_actions: list[str] = field(default_factory=list)
    action_origins: dict[str, Origin] = field(default_factory=dict)
    session_config: SessionConfig = field(default_factory=SessionConfig)

    @property
    def action_names(self) -> list[str]:
        """Every action the bot can predict: defaults, responses, retrieval actions, custom actions and forms.

        ``utter_faq/payment_methods`` is not an action of its own: ``utter_faq`` says it.
        """
        names: list[str] = []
        for name in [*DEFAULT_ACTIONS, *self.responses, *self.custom_actions, *self.forms]:
            name = retrieval_action(name) or name
            if name not in names:
                names.append(name)
        return names

    @property
    def retrieval_actions(self) -> set[str]:
        """``utter_faq`` for every response named ``utter_faq/...``."""
        return {action for action in map(retrieval_action, self.responses) if action}

    @property
    def protected_slots(self) -> set[str]:
        """Slots only actions may set (``protected: true``, and ``verified``/``customer_id`` unless lifted)."""
        return {name for name, slot in self.slots.items() if slot.protected}

    def is_known_action(self, name: str) -> bool:
        return (name in DEFAULT_ACTIONS or name in self.responses or name in self.retrieval_actions
                or name in self.custom_actions or name in self.forms)

    def template_variables(self, response_name: str) -> set[str]:
        """Slot names referenced as ``{slot}`` in a response's texts."""
        found: set[str] = set()
        for variation in self.responses.get(response_name, []):
            found.update(_TEMPLATE_VARIABLE.findall(str(variation.get("text") or "")))
        return found

    def to_dict(self) -> dict:
        """The domain in Rasa's JSON shape, as the action server receives it."""
        return {
            "version": "3.1",
            "session_config": {
                "session_expiration_time": self.session_config.session_expiration_time,
                "carry_over_slots_to_new_session": self.session_config.carry_over_slots_to_new_session,
            },
            "intents": [
                {i.name: {"use_entities": True if i.use_entities is None else i.use_entities,
                          "ignore_entities": i.ignore_entities}}
                for i in self.intents.values()
            ],
            "entities": [
                {e.name: {"roles": e.roles, "groups": e.groups}} if (e.roles or e.groups) else e.name
                for e in self.entities.values()
            ],
            "slots": {
                s.name: {
                    "type": s.type,
                    "initial_value": s.initial_value,
                    "influence_conversation": s.influence_conversation,
                    "mappings": [_mapping_to_dict(m) for m in s.mappings],
                    **({"values": s.values} if s.type == "categorical" else {}),
                }
                for s in self.slots.values()
            },
            "responses": self.responses,
            "actions": list(self.custom_actions),
            "forms": {
                f.name: {"required_slots": f.required_slots, "ignored_intents": f.ignored_intents}
                for f in self.forms.values()
            },
        }


def _mapping_to_dict(mapping: SlotMapping) -> dict:
    result: dict[str, Any] = {"type": mapping.type}
    for key in ("entity", "role", "group", "value", "action"):
        if getattr(mapping, key) is not None:
            result[key] = getattr(mapping, key)
    if mapping.intent:
        result["intent"] = mapping.intent
    if mapping.not_intent:
        result["not_intent"] = mapping.not_intent
    if mapping.conditions:
        result["conditions"] = mapping.conditions
    return result


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _name_and_props(item: Any, path: Path, what: str) -> tuple[str, dict]:
    """Rasa lists items either as ``- name`` or as ``- name: {props}``."""
    if isinstance(item, str):
        return str(item), {}
    if isinstance(item, dict) and len(item) == 1:
        name, props = next(iter(item.items()))
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise TrainingDataError(f"{what} '{name}' must map to a set of properties", path, line_of(item))
        return str(name), props
    raise TrainingDataError(f"each {what} must be a name or a single 'name: properties' entry", path, line_of(item))


class _DomainBuilder:
    """Accumulates the sections of one or more domain files."""

    def __init__(self) -> None:
        self.domain = Domain()

    def add_file(self, path: Path) -> None:
        data = read_yaml_file(path)
        if data is None:
            return
        if not isinstance(data, dict):
            raise TrainingDataError("a domain file must be a mapping of sections", path, line_of(data, 1))
        known = {"version", "intents", "entities", "slots", "responses", "forms", "actions", "session_config",
                 "config", "e2e_actions"}
        for key in data:
            if key not in known:
                raise TrainingDataError(f"unknown domain section '{key}'", path, data.key_lines.get(key))
        sections = {"intents": self._intents, "entities": self._entities, "slots": self._slots,
                    "responses": self._responses, "forms": self._forms, "actions": self._actions}
        for key, read in sections.items():
            with within(data.key_lines.get(key)):
                read(data.get(key), path)
        if data.get("session_config"):
            with within(data.key_lines.get("session_config")):
                self._session_config(data["session_config"], path)

    def _intents(self, items: Any, path: Path) -> None:
        for item in _as_list(items):
            name, props = _name_and_props(item, path, "intent")
            use = props.get("use_entities", True)
            intent = IntentDef(
                name=name,
                use_entities=None if use is True else ([] if use is False else [str(e) for e in _as_list(use)]),
                ignore_entities=[str(e) for e in _as_list(props.get("ignore_entities"))],
                origin=Origin(str(path), line_of(item)),
            )
            self.domain.intents[name] = intent

    def _entities(self, items: Any, path: Path) -> None:
        for item in _as_list(items):
            name, props = _name_and_props(item, path, "entity")
            self.domain.entities[name] = EntityDef(
                name, [str(r) for r in _as_list(props.get("roles"))], [str(g) for g in _as_list(props.get("groups"))],
                Origin(str(path), line_of(item)),
            )

    def _slots(self, items: Any, path: Path) -> None:
        if items is None:
            return
        if not isinstance(items, dict):
            raise TrainingDataError("'slots' must be a mapping of slot names to definitions", path, line_of(items))
        for name, props in items.items():
            line = items.key_lines.get(name)
            if not isinstance(props, dict):
                raise TrainingDataError(f"slot '{name}' must be a mapping with a 'type'", path, line)
            slot_type = str(props.get("type", "")).split(".")[-1].replace("_slot", "").lower()
            slot_type = {"unfeaturized": "any", "textslot": "text"}.get(slot_type, slot_type)
            if slot_type not in SLOT_TYPES:
                raise TrainingDataError(
                    f"slot '{name}' has unknown type '{props.get('type')}' (use one of {sorted(SLOT_TYPES)})", path, line
                )
            influence = bool(props.get("influence_conversation", slot_type != "any"))
            protected = props.get("protected", name in DEFAULT_PROTECTED_SLOTS)
            if not isinstance(protected, bool):
                raise TrainingDataError(f"slot '{name}': 'protected' must be true or false", path, line)
            if slot_type == "any" and influence:
                raise TrainingDataError(f"slot '{name}' of type 'any' cannot influence the conversation", path, line)
            slot = SlotDef(
                name=str(name),
                type=slot_type,
                influence_conversation=influence,
                mappings=[self._mapping(m, path, name) for m in _as_list(props.get("mappings"))],
                values=[str(v) for v in _as_list(props.get("values"))],
                min_value=float(props.get("min_value", 0.0)),
                max_value=float(props.get("max_value", 1.0)),
                initial_value=plain(props.get("initial_value")),
                protected=protected,
                origin=Origin(str(path), line),
            )
            if slot_type == "categorical" and not slot.values:
                raise TrainingDataError(f"categorical slot '{name}' needs 'values'", path, line)
            self.domain.slots[slot.name] = slot

    @staticmethod
    def _mapping(raw: Any, path: Path, slot_name: str) -> SlotMapping:
        if not isinstance(raw, dict) or "type" not in raw:
            raise TrainingDataError(f"each mapping of slot '{slot_name}' needs a 'type'", path, line_of(raw))
        mapping_type = str(raw["type"])
        if mapping_type not in MAPPING_TYPES:
            raise TrainingDataError(
                f"slot '{slot_name}' has unknown mapping type '{mapping_type}' (use one of {sorted(MAPPING_TYPES)})",
                path, line_of(raw),
            )
        if mapping_type == "from_entity" and not raw.get("entity"):
            raise TrainingDataError(f"from_entity mapping of slot '{slot_name}' needs 'entity'", path, line_of(raw))
        conditions = []
        for condition in _as_list(raw.get("conditions")):
            if not isinstance(condition, dict) or "active_loop" not in condition:
                raise TrainingDataError(
                    f"each condition of slot '{slot_name}' needs 'active_loop'", path, line_of(condition, line_of(raw))
                )
            conditions.append(plain(condition))
        return SlotMapping(
            type=mapping_type,
            entity=raw.get("entity") and str(raw["entity"]),
            role=raw.get("role") and str(raw["role"]),
            group=raw.get("group") and str(raw["group"]),
            intent=[str(i) for i in _as_list(raw.get("intent"))],
            not_intent=[str(i) for i in _as_list(raw.get("not_intent"))],
            value=plain(raw.get("value")),
            conditions=conditions,
            action=raw.get("action") and str(raw["action"]),
        )

    def _responses(self, items: Any, path: Path) -> None:
        if items is None:
            return
        if not isinstance(items, dict):
            raise TrainingDataError("'responses' must map response names to variations", path, line_of(items))
        for name, variations in items.items():
            line = items.key_lines.get(name)
            if not isinstance(variations, list) or not variations:
                raise TrainingDataError(f"response '{name}' needs a list of variations", path, line)
            for variation in variations:
                if not isinstance(variation, dict):
                    raise TrainingDataError(
                        f"each variation of response '{name}' must be a mapping such as 'text: ...'", path,
                        line_of(variation, line),
                    )
                if not any(key in variation for key in ("text", "image", "custom", "buttons", "attachment")):
                    raise TrainingDataError(f"a variation of response '{name}' has no text", path, line_of(variation))
            self.domain.responses[str(name)] = plain(variations)
            self.domain.response_origins[str(name)] = Origin(str(path), line)

    def _forms(self, items: Any, path: Path) -> None:
        if items is None:
            return
        if not isinstance(items, dict):
            raise TrainingDataError("'forms' must map form names to definitions", path, line_of(items))
        for name, props in items.items():
            line = items.key_lines.get(name)
            props = props or {}
            required = props.get("required_slots", [])
            if isinstance(required, dict):  # Rasa 2 style: slot -> mappings
                required = list(required)
            if not isinstance(required, list):
                raise TrainingDataError(f"form '{name}' needs a list of 'required_slots'", path, line)
            self.domain.forms[str(name)] = FormDef(
                str(name), [str(s) for s in required], [str(i) for i in _as_list(props.get("ignored_intents"))],
                Origin(str(path), line),
            )

    def _actions(self, items: Any, path: Path) -> None:
        for item in _as_list(items):
            name, _ = _name_and_props(item, path, "action")
            if name not in self.domain.custom_actions:
                self.domain.custom_actions.append(name)
            self.domain.action_origins[name] = Origin(str(path), line_of(item))

    def _session_config(self, raw: Any, path: Path) -> None:
        if not isinstance(raw, dict):
            raise TrainingDataError("'session_config' must be a mapping", path, line_of(raw))
        self.domain.session_config = SessionConfig(
            float(raw.get("session_expiration_time", 60)), bool(raw.get("carry_over_slots_to_new_session", True))
        )

    def finish(self) -> Domain:
        """Add the slots and intents that every bot has, as Rasa does."""
        domain = self.domain
        for intent in DEFAULT_INTENTS:
            domain.intents.setdefault(intent, IntentDef(intent))
        if domain.forms and REQUESTED_SLOT not in domain.slots:
            domain.slots[REQUESTED_SLOT] = SlotDef(REQUESTED_SLOT, "any", False, [SlotMapping("custom")])
        domain.slots.setdefault(SESSION_START_METADATA_SLOT,
                                SlotDef(SESSION_START_METADATA_SLOT, "any", False, [SlotMapping("custom")]))
        domain.slots.setdefault(HANDOFF_REASON_SLOT, SlotDef(HANDOFF_REASON_SLOT, "any", False, [SlotMapping("custom")]))
        return domain


def domain_files(path: Path) -> list[Path]:
    """A domain is one YAML file or a folder of them."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    return [path]


def load_domain(paths: Iterable[Path]) -> Domain:
    builder = _DomainBuilder()
    for path in paths:
        for file in domain_files(Path(path)):
            builder.add_file(file)
    return builder.finish()
