"""Regex and lookup-table entities, with Rasa's RegexEntityExtractor semantics.

A regex or lookup table extracts an entity only when its name equals an entity
name annotated somewhere in the training examples; the others are still useful
as CRF features (see ``compile_patterns``), which is how Rasa treats them too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from bot.nlu.entities import Entity, merge_entities, read_json, write_json

Regexes = Sequence[tuple[str, str]]
Lookups = Sequence[tuple[str, Sequence[str]]]


@dataclass(frozen=True)
class NamedPattern:
    """A compiled training-data pattern; ``source`` is kept so it can be persisted as JSON."""

    name: str
    source: str
    regex: re.Pattern[str]


def lookup_to_regex(elements: Iterable[str]) -> str:
    """Alternation of the escaped elements, longest first so "new york city" beats
    "new york". Lookarounds instead of ``\\b`` keep elements like "c++" matchable."""
    unique = sorted({e.strip() for e in elements if e.strip()}, key=len, reverse=True)
    return r"(?<!\w)(?:" + "|".join(re.escape(e) for e in unique) + r")(?!\w)" if unique else ""


def compile_pattern(name: str, source: str, case_sensitive: bool) -> NamedPattern:
    """Compile with an error that names the offending regex, since a bad pattern in
    nlu.yml otherwise surfaces as a bare ``re.error`` deep inside training."""
    try:
        regex = re.compile(source, 0 if case_sensitive else re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"Invalid regex {name!r} in training data: {source!r} ({error})") from error
    return NamedPattern(name, source, regex)


def compile_patterns(
    regexes: Regexes, lookups: Lookups, case_sensitive: bool = False
) -> list[NamedPattern]:
    sources = [*regexes, *((name, lookup_to_regex(elements)) for name, elements in lookups)]
    return [compile_pattern(name, source, case_sensitive) for name, source in sources if source]


def patterns_to_json(patterns: Iterable[NamedPattern]) -> list[list[str]]:
    return [[p.name, p.source] for p in patterns]


def patterns_from_json(rows: Iterable[Sequence[str]], case_sensitive: bool) -> list[NamedPattern]:
    return [compile_pattern(name, source, case_sensitive) for name, source in rows]


def annotated_entity_names(examples: Iterable) -> set[str]:
    return {annotation["entity"] for example in examples for annotation in example.entities}


class RegexEntityExtractor:
    """Extracts entities whose name has a regex or lookup table in the training data."""

    name = "RegexEntityExtractor"
    _FILE = "regex_entity_extractor.json"

    def __init__(
        self,
        case_sensitive: bool = False,
        use_regexes: bool = True,
        use_lookup_tables: bool = True,
        patterns: Sequence[NamedPattern] = (),
    ) -> None:
        self.case_sensitive = case_sensitive
        self.use_regexes = use_regexes
        self.use_lookup_tables = use_lookup_tables
        self.patterns = list(patterns)

    def train(self, examples: Iterable, synonyms: dict[str, str], regexes: Regexes, lookups: Lookups) -> None:
        """Keep the patterns named after annotated entities (synonyms are the mapper's job)."""
        entity_names = annotated_entity_names(examples)
        self.patterns = [
            pattern
            for pattern in compile_patterns(
                regexes if self.use_regexes else (),
                lookups if self.use_lookup_tables else (),
                self.case_sensitive,
            )
            if pattern.name in entity_names
        ]

    def extract(self, text: str) -> list[Entity]:
        """All matches; overlapping matches of one entity keep the longest."""
        matches = [
            Entity(m.start(), m.end(), m.group(), pattern.name, extractor=self.name)
            for pattern in self.patterns
            for m in pattern.regex.finditer(text)
            if m.end() > m.start()
        ]
        return merge_entities(matches)

    def persist(self, model_dir: str | Path) -> None:
        config = {
            "case_sensitive": self.case_sensitive,
            "use_regexes": self.use_regexes,
            "use_lookup_tables": self.use_lookup_tables,
            "patterns": patterns_to_json(self.patterns),
        }
        write_json(model_dir, self._FILE, config)

    @classmethod
    def load(cls, model_dir: str | Path) -> "RegexEntityExtractor":
        config = read_json(model_dir, cls._FILE)
        patterns = patterns_from_json(config.pop("patterns"), config["case_sensitive"])
        return cls(**config, patterns=patterns)
