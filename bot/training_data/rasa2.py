"""Rasa 2.x projects: recognise them as a whole, and migrate their domain to 3.x.

A Rasa 2.x bot differs from a 3.x one mostly in its domain: slots had no
``mappings`` (Rasa 2 filled a slot from the entity of the same name, and forms
listed the mappings under ``required_slots``), slot types were written as class
paths (``rasa.shared.core.slots.AnySlot``), and a few pipeline components and
policies were removed in 3.0. Instead of stopping at the first construct Helpline
does not read, :func:`rasa2_findings` lists all of them so the project can be
named for what it is, and :func:`migrate_domain` converts the domain the way
``rasa data migrate`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.training_data.domain_reader import domain_files
from bot.training_data.yaml_reader import TrainingDataError, line_of, plain, read_yaml_file

REMOVED_IN_3 = {
    "ConveRTTokenizer": "WhitespaceTokenizer",
    "LanguageModelTokenizer": "WhitespaceTokenizer",
    "HFTransformersNLP": "LanguageModelFeaturizer",
    "EmbeddingIntentClassifier": "DIETClassifier",
    "MappingPolicy": "RulePolicy (rules)",
    "FormPolicy": "RulePolicy (forms)",
    "FallbackPolicy": "RulePolicy with FallbackClassifier",
    "TwoStageFallbackPolicy": "RulePolicy with FallbackClassifier and action_two_stage_fallback",
    "KerasPolicy": "TEDPolicy",
    "EmbeddingPolicy": "TEDPolicy",
    "SklearnPolicy": "TEDPolicy",
}
_SLOT_TYPES = {"anyslot": "any", "unfeaturized": "any", "unfeaturizedslot": "any", "textslot": "text",
               "boolslot": "bool", "booleanslot": "bool", "categoricalslot": "categorical", "floatslot": "float", "listslot": "list"}
MIGRATED_VERSION = "3.1"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    what: str
    kind: str = "domain"  # or "config"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}" if self.line else f"{self.path}: {self.what}"


class Rasa2ProjectError(TrainingDataError):
    """The project is written for Rasa 2.x; the message lists every 2.x construct found."""

    def __init__(self, findings: list[Finding], root: Path):
        self.findings = findings
        listing = "\n".join(f"  {finding}" for finding in findings)
        steps = []
        if any(f.kind == "domain" for f in findings):
            steps.append(f"convert the domain with `helpline --project {root} data migrate` (as `rasa data migrate` "
                         "does)")
        if any(f.kind == "config" for f in findings):
            steps.append("replace the config.yml entries listed above")
        super().__init__(
            f"this is a Rasa 2.x project; Helpline reads Rasa 3.x projects. Rasa 2.x constructs found:\n{listing}\n"
            f"To move it to Rasa 3.x: {'; then '.join(steps)}.", root)


def _slot_type(raw: Any) -> str:
    """``rasa.shared.core.slots.AnySlot`` -> ``any``; 3.x names are returned unchanged."""
    name = str(raw or "").split(".")[-1]
    return _SLOT_TYPES.get(name.lower(), name.lower())


def _domain_findings(path: Path, data: dict) -> list[Finding]:
    found = []
    version = str(data.get("version") or "")
    if version.startswith("2"):
        found.append(Finding(str(path), data.key_lines.get("version"), f'domain format version "{version}"'))
    slots = data.get("slots") if isinstance(data.get("slots"), dict) else {}
    for name, props in slots.items():
        line = slots.key_lines.get(name)
        if not isinstance(props, dict):
            continue
        if "." in str(props.get("type", "")) or str(props.get("type", "")).lower() == "unfeaturized":
            found.append(Finding(str(path), line, f"slot '{name}' has the Rasa 2 type '{props.get('type')}' "
                                                  f"(Rasa 3: {_slot_type(props.get('type'))})"))
        if "auto_fill" in props:
            found.append(Finding(str(path), line, f"slot '{name}' uses auto_fill (Rasa 3: slot mappings)"))
        elif "mappings" not in props and version.startswith("2"):
            found.append(Finding(str(path), line, f"slot '{name}' has no mappings (Rasa 2 filled slots from "
                                                  "entities of the same name)"))
    forms = data.get("forms") if isinstance(data.get("forms"), dict) else {}
    for name, props in forms.items():
        if isinstance(props, dict) and isinstance(props.get("required_slots"), dict):
            found.append(Finding(str(path), forms.key_lines.get(name),
                                 f"form '{name}' lists slot mappings under required_slots (Rasa 3: under the slots)"))
    return found


def _config_findings(path: Path) -> list[Finding]:
    data = read_yaml_file(path) if path.is_file() else None
    found = []
    for section in ("pipeline", "policies"):
        items = data.get(section) if isinstance(data, dict) else None
        for item in items if isinstance(items, list) else []:
            name = str(item.get("name", "")).split(".")[-1] if isinstance(item, dict) else ""
            if name in REMOVED_IN_3:
                found.append(Finding(str(path), line_of(item), f"{name} was removed in Rasa 3 "
                                                               f"(use {REMOVED_IN_3[name]})", "config"))
    return found


def rasa2_findings(root: Path, domain_paths: list[Path], config_path: Path) -> list[Finding]:
    """Every Rasa 2.x construct in the project's domain and config (empty for a 3.x project)."""
    found: list[Finding] = []
    for domain_path in domain_paths:
        for file in domain_files(domain_path) if domain_path.exists() else []:
            data = read_yaml_file(file)
            if isinstance(data, dict):
                found.extend(_domain_findings(file, data))
    found.extend(_config_findings(config_path))
    only_version = all(f.what.startswith("domain format version") for f in found)
    return [] if only_version else found


# --- migration -----------------------------------------------------------------------------------

def _form_mappings(forms: dict) -> dict[str, list[dict]]:
    """Rasa 2 forms' per-slot mappings, each conditioned on its form asking for that slot (as Rasa 3 needs)."""
    by_slot: dict[str, list[dict]] = {}
    for form, props in forms.items():
        required = (props or {}).get("required_slots")
        if not isinstance(required, dict):
            continue
        for slot, mappings in required.items():
            for mapping in mappings or []:
                conditioned = {**mapping, "conditions": [{"active_loop": form, "requested_slot": slot}]}
                by_slot.setdefault(slot, []).append(conditioned)
    return by_slot


def _entity_names(entities: list) -> set[str]:
    return {next(iter(e)) if isinstance(e, dict) else str(e) for e in entities or []}


def migrate_domain_data(data: dict, entities: set[str], forms: dict) -> dict:
    """One 2.x domain file's content in 3.x form; ``entities`` and ``forms`` span the whole domain."""
    data = plain(data)
    data["version"] = MIGRATED_VERSION
    form_mappings = _form_mappings(forms)
    for name, props in (data.get("slots") or {}).items():
        props = props or {}
        auto_fill = props.pop("auto_fill", True)
        slot_type = _slot_type(props.get("type"))
        if str(props.get("type", "")).lower() in ("unfeaturized", "rasa.shared.core.slots.unfeaturizedslot"):
            props["influence_conversation"] = False
        props["type"] = slot_type
        if slot_type == "any":
            props["influence_conversation"] = False
        if "mappings" not in props:
            mappings = [{"type": "from_entity", "entity": name}] if auto_fill and name in entities else []
            mappings += form_mappings.get(name, [])
            props["mappings"] = mappings or [{"type": "custom"}]
        data["slots"][name] = props
    for name, props in (data.get("forms") or {}).items():
        if isinstance((props or {}).get("required_slots"), dict):
            props["required_slots"] = list(props["required_slots"])
    intents = []
    for intent in data.get("intents") or []:
        if isinstance(intent, dict):
            intent = {k: ({p: v for p, v in (props or {}).items() if p != "is_retrieval_intent"} or None)
                      for k, props in intent.items()}
            intent = next(iter(intent)) if list(intent.values()) == [None] else intent
        intents.append(intent)
    if intents:
        data["intents"] = intents
    return data


def migrate_domain(domain_path: Path, out: Path | None = None) -> list[Path]:
    """Write the 3.x domain (``new_domain.yml`` or a ``new_domain/`` folder beside it by default).

    Returns the files written. Writing over the domain itself keeps the original as ``original_domain.yml``
    (or ``original_domain/``).
    """
    files = domain_files(domain_path)
    contents = {file: read_yaml_file(file) or {} for file in files}
    for file, data in contents.items():
        if not isinstance(data, dict):
            raise TrainingDataError("a domain file must be a mapping of sections", file, line_of(data, 1))
    entities = set().union(*(_entity_names(d.get("entities")) for d in contents.values()))
    forms = {k: v for d in contents.values() for k, v in plain(d.get("forms") or {}).items()}
    default_name = "new_domain" if domain_path.is_dir() else "new_domain.yml"
    out = out or domain_path.parent / default_name
    if out.resolve() == domain_path.resolve():
        backup = domain_path.parent / ("original_domain" if domain_path.is_dir() else "original_domain.yml")
        domain_path.rename(backup)
        files = [backup / f.relative_to(domain_path) for f in files] if domain_path.is_dir() else [backup]
        domain_path = backup
    written = []
    for file, data in zip(files, contents.values()):
        target = out / file.relative_to(domain_path) if domain_path.is_dir() else out
        target.parent.mkdir(parents=True, exist_ok=True)
        migrated = migrate_domain_data(data, entities, forms)
        target.write_text(yaml.safe_dump(migrated, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
        written.append(target)
    return written
