"""Entity type shared by all extractors, plus span-overlap helpers.

Entities are exchanged in Rasa's ``/model/parse`` JSON shape so that the rest of
the bot (and anything ported from a Rasa project) can consume them unchanged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

T = TypeVar("T")


@dataclass
class Entity:
    """One extracted entity; ``start``/``end`` are character offsets into the message text.

    ``additional_info`` carries structured detail for builtin dimensions (unit,
    grain), the way Rasa's Duckling extractor does; ``processors`` lists components
    that changed the value afterwards (e.g. the synonym mapper), also as Rasa does.
    """

    start: int
    end: int
    value: Any
    entity: str
    role: str | None = None
    group: str | None = None
    extractor: str = ""
    confidence: float = 1.0
    additional_info: dict[str, Any] | None = None
    processors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Rasa parse JSON: role/group/additional_info/processors only when present."""
        data: dict[str, Any] = {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "extractor": self.extractor,
            "confidence_entity": self.confidence,
        }
        optional = {
            "role": self.role,
            "group": self.group,
            "additional_info": self.additional_info,
            "processors": self.processors or None,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data


def spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Half-open interval overlap: touching spans ("$5" next to "0") do not overlap."""
    return a[0] < b[1] and b[0] < a[1]


def select_spans(
    candidates: Iterable[T],
    span: Callable[[T], tuple[int, int]],
    rank: Callable[[T], Any],
    conflict: Callable[[T, T], bool] = lambda a, b: True,
) -> list[T]:
    """Greedy conflict resolution: best-ranked candidate wins each overlapping pair.

    Shared by date matching, builtin dimensions and extractor merging so that
    every place resolving overlaps does it the same way. Result is in text order.
    """
    kept: list[T] = []
    for candidate in sorted(candidates, key=rank):
        clash = any(
            spans_overlap(span(candidate), span(other)) and conflict(candidate, other)
            for other in kept
        )
        if not clash:
            kept.append(candidate)
    return sorted(kept, key=span)


def entity_span(entity: Entity) -> tuple[int, int]:
    return entity.start, entity.end


def merge_entities(*entity_lists: Iterable[Entity]) -> list[Entity]:
    """Merge outputs of several extractors, given in priority order (first wins).

    Two entities are duplicates when they overlap and name the same entity type;
    the one from the higher-priority list is kept (within a list, the longer one).
    Overlapping entities of *different* types are all kept, as in Rasa, because
    e.g. a CRF ``order_id`` and a builtin ``digits`` on the same span are both useful.
    """
    ranked = [
        ((priority, -(entity.end - entity.start), entity.start), entity)
        for priority, entities in enumerate(entity_lists)
        for entity in entities
    ]
    kept = select_spans(
        ranked,
        span=lambda item: entity_span(item[1]),
        rank=lambda item: item[0],
        conflict=lambda a, b: a[1].entity == b[1].entity,
    )
    return [entity for _, entity in kept]


def write_json(model_dir: str | Path, filename: str, data: Any) -> None:
    """Components persist as readable JSON (never pickle) so models can be diffed and audited."""
    directory = Path(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / filename).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def read_json(model_dir: str | Path, filename: str) -> Any:
    return json.loads((Path(model_dir) / filename).read_text(encoding="utf-8"))
