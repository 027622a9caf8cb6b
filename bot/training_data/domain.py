"""The Rasa 3.x domain: what the bot knows, says and remembers.

Every definition keeps the file and line it came from (:class:`Origin`) so the
validator can point editors at it; ``bot.training_data.domain_reader`` reads
and merges the domain's files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from bot.training_data.retrieval import retrieval_action

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
