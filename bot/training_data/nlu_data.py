"""Rasa 3.x ``nlu:`` training data: intent examples, synonyms, regexes and lookups.

Entity annotations follow Rasa's markdown-in-YAML syntax, ``[text](entity)``,
``[text](entity:value)`` and ``[text]{"entity": ..., "value": ..., "role": ..., "group": ...}``;
the same parser reads annotated user turns in stories and test stories.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.training_data.yaml_reader import TrainingDataError, line_of

_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]*\}))"
)


@dataclass
class TrainingExample:
    text: str
    intent: str
    entities: list[dict] = field(default_factory=list)
    path: str = ""
    line: int | None = None


@dataclass
class NLUData:
    examples: list[TrainingExample] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    regexes: list[tuple[str, str]] = field(default_factory=list)
    lookups: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    @property
    def entity_names(self) -> set[str]:
        return {ent["entity"] for e in self.examples for ent in e.entities}

    def merge(self, other: "NLUData") -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        self.regexes.extend(other.regexes)
        self.lookups.extend(other.lookups)


def parse_annotated_text(annotated: str, path: str | Path = "", line: int | None = None) -> tuple[str, list[dict]]:
    """Turn ``I live in [Berlin](city)`` into plain text plus Rasa entity dicts."""
    plain_parts: list[str] = []
    entities: list[dict] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(annotated):
        before = annotated[cursor:match.start()]
        plain_parts.append(before)
        length += len(before)
        surface = match.group("text")
        start, end = length, length + len(surface)
        plain_parts.append(surface)
        length = end
        cursor = match.end()
        entities.append(_annotation_entity(match, surface, start, end, path, line))
    plain_parts.append(annotated[cursor:])
    return "".join(plain_parts), entities


def _annotation_entity(match: re.Match, surface: str, start: int, end: int, path, line) -> dict:
    if match.group("json"):
        try:
            spec = json.loads(match.group("json"))
        except json.JSONDecodeError as error:
            raise TrainingDataError(f"entity annotation {match.group('json')} is not valid JSON ({error.msg})",
                                    path, line) from None
        if not isinstance(spec, dict) or "entity" not in spec:
            raise TrainingDataError(f"entity annotation {match.group('json')} needs an \"entity\" key", path, line)
    else:
        spec = {"entity": match.group("entity").strip()}
        if match.group("value"):
            spec["value"] = match.group("value").strip()
    entity = {"start": start, "end": end, "value": str(spec.get("value", surface)), "entity": str(spec["entity"])}
    for key in ("role", "group"):
        if spec.get(key) is not None:
            entity[key] = str(spec[key])
    return entity


def _example_lines(item: dict, path: Path) -> list[tuple[str, int | None]]:
    """Rasa accepts ``examples: |`` (one ``- text`` per line) or a list of ``text:`` mappings."""
    raw = item.get("examples")
    if raw is None:
        raise TrainingDataError("this block has no 'examples'", path, line_of(item))
    if isinstance(raw, list):
        lines = []
        for entry in raw:
            text = entry.get("text") if isinstance(entry, dict) else entry
            if not isinstance(text, str):
                raise TrainingDataError("each example needs a 'text'", path, line_of(entry, line_of(item)))
            lines.append((text, line_of(entry)))
        return lines
    if not isinstance(raw, str):
        raise TrainingDataError("'examples' must be a block of '- example' lines", path, line_of(item))
    first_line = (item.key_lines.get("examples") or line_of(item) or 0) + 1
    lines = []
    for offset, text in enumerate(raw.splitlines()):
        stripped = text.strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            raise TrainingDataError(f"example line must start with '- ': {stripped!r}", path, first_line + offset)
        lines.append((stripped[2:].strip(), first_line + offset))
    return lines


def read_nlu_items(items: Any, path: Path) -> NLUData:
    """Read the list under an ``nlu:`` key."""
    data = NLUData()
    if items is None:
        return data
    if not isinstance(items, list):
        raise TrainingDataError("'nlu' must be a list of intent/synonym/regex/lookup blocks", path, line_of(items))
    for item in items:
        if not isinstance(item, dict):
            raise TrainingDataError("each 'nlu' entry must be a mapping", path, line_of(item))
        kind = next((k for k in ("intent", "synonym", "regex", "lookup") if k in item), None)
        if kind is None:
            raise TrainingDataError("an 'nlu' block needs one of intent, synonym, regex, lookup", path, line_of(item))
        name = str(item[kind])
        lines = _example_lines(item, path)
        if kind == "intent":
            for text, line in lines:
                plain_text, entities = parse_annotated_text(text, path, line)
                data.examples.append(TrainingExample(plain_text, name, entities, str(path), line))
                for entity in entities:
                    if entity["value"] != plain_text[entity["start"]:entity["end"]]:
                        data.synonyms[plain_text[entity["start"]:entity["end"]].lower()] = entity["value"]
        elif kind == "synonym":
            for text, _ in lines:
                data.synonyms[text.lower()] = name
        elif kind == "regex":
            for text, line in lines:
                try:
                    re.compile(text)
                except re.error as error:
                    raise TrainingDataError(f"regex '{name}' has an invalid pattern {text!r}: {error}", path, line) from None
                data.regexes.append((name, text))
        else:
            data.lookups.append((name, [text for text, _ in lines]))
    return data
