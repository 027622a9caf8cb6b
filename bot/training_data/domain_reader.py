"""Reading a domain from its YAML files, as Rasa does.

A domain may be split over several files (Rasa merges a ``domain/`` folder);
:func:`load_domain` merges them into one :class:`Domain`. Each section is
checked as it is read, and a mistake is reported with the file and line that
hold it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from bot.training_data.domain import (
    DEFAULT_INTENTS, DEFAULT_PROTECTED_SLOTS, HANDOFF_REASON_SLOT, MAPPING_TYPES, REQUESTED_SLOT,
    SESSION_START_METADATA_SLOT, SLOT_TYPES, Domain, EntityDef, FormDef, IntentDef, Origin, SessionConfig, SlotDef,
    SlotMapping,
)
from bot.training_data.yaml_reader import TrainingDataError, line_of, plain, read_yaml_file, within


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _number(value: Any, what: str, path: Path, line: int | None) -> float:
    """A number from the domain, or an error that names the file and line."""
    if isinstance(value, bool):
        raise TrainingDataError(f"{what} must be a number, not {value!r}", path, line)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TrainingDataError(f"{what} must be a number, not {value!r}", path, line) from None


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
                min_value=_number(props.get("min_value", 0.0), f"slot '{name}': 'min_value'", path, line),
                max_value=_number(props.get("max_value", 1.0), f"slot '{name}': 'max_value'", path, line),
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
            if not isinstance(props, dict):
                raise TrainingDataError(f"form '{name}' must map to its properties ('required_slots', ...)", path, line)
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
            _number(raw.get("session_expiration_time", 60), "'session_expiration_time'", path, line_of(raw)),
            bool(raw.get("carry_over_slots_to_new_session", True)),
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
