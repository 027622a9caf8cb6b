"""Maps extracted entity values to canonical values, like Rasa's EntitySynonymMapper."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable

from bot.nlu.entities import Entity, read_json, write_json


def _annotated_synonyms(examples: Iterable) -> dict[str, str]:
    """Inline ``[text]{"entity": .., "value": ..}`` annotations are synonyms too (as in Rasa)."""
    found = {}
    for example in examples:
        for annotation in example.entities:
            surface = example.text[annotation["start"]:annotation["end"]]
            value = annotation.get("value")
            if isinstance(value, str) and value != surface:
                found[surface.lower()] = value
    return found


class EntitySynonymMapper:
    """Replaces string entity values found (case-insensitively) in the synonym table."""

    name = "EntitySynonymMapper"
    _FILE = "entity_synonyms.json"

    def __init__(self, synonyms: dict[str, str] | None = None) -> None:
        self.synonyms = {key.lower(): value for key, value in (synonyms or {}).items()}

    def train(self, examples: Iterable, synonyms: dict[str, str], regexes=(), lookups=()) -> None:
        """Explicit ``synonym:`` blocks win over inline annotations when they disagree."""
        self.synonyms = {**_annotated_synonyms(examples), **{k.lower(): v for k, v in synonyms.items()}}

    def process(self, entities: Iterable[Entity]) -> list[Entity]:
        """New entities with mapped values; the mapper is recorded in ``processors``."""
        return [self._map(entity) for entity in entities]

    def _map(self, entity: Entity) -> Entity:
        if not isinstance(entity.value, str):
            return entity
        canonical = self.synonyms.get(entity.value.lower())
        if canonical is None or canonical == entity.value:
            return entity
        return replace(entity, value=canonical, processors=[*entity.processors, self.name])

    def persist(self, model_dir: str | Path) -> None:
        write_json(model_dir, self._FILE, self.synonyms)

    @classmethod
    def load(cls, model_dir: str | Path) -> "EntitySynonymMapper":
        return cls(read_json(model_dir, cls._FILE))
