"""Offline stand-in for Rasa's DucklingEntityExtractor, tuned for phone transcripts.

Dimensions (Duckling names where Duckling has them):

* ``number``: cardinals and numerals; value int/float ("twenty three" -> 23).
* ``digits``: digit strings said or keyed digit by digit (order numbers, PINs):
  "four seven two" / "double five" / "0472" / a keyed run of 4+ digits; value is a
  string so leading zeros survive.
* ``ordinal``: "third", "21st"; value int.
* ``amount-of-money``: "$50", "fifty dollars", "20 bucks", "a buck fifty cents",
  "twenty dollars and five cents"; value float, ISO currency code in
  ``additional_info["unit"]``.
* ``time``: dates from the normalizer (see its docstring for conventions); value
  "YYYY-MM-DDT00:00:00.000" (local, day grain).
* ``email``, ``phone-number`` (7+ digits with -, ., () or +, or any 10-15 digits).

Unlike Duckling, one span yields one reading: overlapping candidates resolve to the
longest, ties going to the earlier dimension in ``DIMENSIONS`` (so "May 3rd" is a
time, not an ordinal, and "$50" an amount, not a number).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable, Sequence

from bot.nlu.entities import Entity, read_json, select_spans, write_json
from bot.nlu.normalizer import NumberSpan, find_number_spans, find_spoken_ordinals
from bot.nlu.spoken_dates import find_spoken_dates

DIMENSIONS = ("email", "time", "amount-of-money", "phone-number", "ordinal", "digits", "number")

_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\w+])\+?\(?[0-9][0-9 ().-]*[0-9](?!\w)")
_PHONE_SEPARATORS = set("().-+")
_KEYED_DIGITS_RE = re.compile(r"[0-9]{4,}")
_SYMBOL_BEFORE_RE = re.compile(r"([$€£])\s*\Z")
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_UNIT_WORDS = {  # word -> (currency, factor)
    **dict.fromkeys(["dollar", "dollars", "buck", "bucks", "usd"], ("USD", 1)),
    **dict.fromkeys(["euro", "euros", "eur"], ("EUR", 1)),
    **dict.fromkeys(["pound", "pounds", "quid", "gbp"], ("GBP", 1)),
    **dict.fromkeys(["cent", "cents"], ("USD", 0.01)),
    **dict.fromkeys(["penny", "pence"], ("GBP", 0.01)),
}
_UNIT_AFTER_RE = re.compile(rf"\s*({'|'.join(_UNIT_WORDS)})(?!\w)", re.IGNORECASE)
_SUBUNIT_LEAD_RE = re.compile(r"\s*(?:and\s+)?", re.IGNORECASE)
_ARTICLE_RE = re.compile(r"(?<!\w)(?:a|an|one)(?!\w)", re.IGNORECASE)

_Quantity = tuple[int, int, str]


def _numeric(value: str) -> int | float:
    return int(value) if value.isdigit() else float(value)


def _builtin(start: int, end: int, value, dimension: str, **info) -> Entity:
    return Entity(
        start, end, value, dimension,
        extractor=BuiltinEntityExtractor.name,
        additional_info={"value": value, "type": "value", **info},
    )


def _emails(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    return [_builtin(m.start(), m.end(), m.group(), "email") for m in _EMAIL_RE.finditer(text)]


def _times(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    return [
        _builtin(start, end, f"{date.isoformat()}T00:00:00.000", "time", grain="day")
        for start, end, date in find_spoken_dates(text, today)
    ]


def _ordinals(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    return [_builtin(start, end, value, "ordinal") for start, end, value in find_spoken_ordinals(text)]


def _numbers(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    return [_builtin(s.start, s.end, _numeric(s.value), "number") for s in spans]


def _is_digit_string(text: str, span: NumberSpan) -> bool:
    """Digit-by-digit speech, leading zeros, or a keyed run of 4+ digits (an ID, not a count)."""
    keyed = _KEYED_DIGITS_RE.fullmatch(text, span.start, span.end) is not None
    return span.value.isdigit() and (span.sequence or keyed)


def _digits(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    return [_builtin(s.start, s.end, s.value, "digits") for s in spans if _is_digit_string(text, s)]


def _phone_value(surface: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", surface)
    formatted = bool(_PHONE_SEPARATORS & set(surface))
    if 10 <= len(digits) <= 15 or (7 <= len(digits) <= 15 and formatted):
        return ("+" if surface.startswith("+") else "") + digits
    return None


def _phone_numbers(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    """Keyed numbers by shape, spoken ones ("five five five ...") by digit count."""
    keyed = [(m.start(), m.end(), _phone_value(m.group())) for m in _PHONE_RE.finditer(text)]
    spoken = [(s.start, s.end, _phone_value(s.value)) for s in spans if s.sequence]
    return [_builtin(start, end, value, "phone-number") for start, end, value in keyed + spoken if value]


def _amounts(text: str, spans: list[NumberSpan], today: dt.date) -> list[Entity]:
    """A quantity with a currency symbol before it and/or a unit word after it,
    then optionally "(and) N cents"; "a"/"one" count as 1 before a unit word."""
    quantities = [(s.start, s.end, s.value) for s in spans]
    quantities += [(m.start(), m.end(), "1") for m in _ARTICLE_RE.finditer(text)]
    amounts = []
    for start, end, value in quantities:
        symbol = _SYMBOL_BEFORE_RE.search(text[:start])
        unit = _UNIT_AFTER_RE.match(text, end)
        if not (symbol or unit):
            continue
        currency, factor = _UNIT_WORDS[unit.group(1).lower()] if unit else (_CURRENCY_SYMBOLS[symbol.group(1)], 1)
        amount, stop = _numeric(value) * factor, unit.end() if unit else end
        if factor == 1:
            cents, stop = _subunit_after(text, stop, quantities)
            amount += cents
        begin = symbol.start() if symbol else start
        amounts.append(_builtin(begin, stop, round(float(amount), 2), "amount-of-money", unit=currency))
    return amounts


def _subunit_after(text: str, position: int, quantities: list[_Quantity]) -> tuple[float, int]:
    """The "and fifty cents" after "twenty dollars": (fraction, new end) or (0, position)."""
    lead = _SUBUNIT_LEAD_RE.match(text, position)
    for start, end, value in quantities:
        unit = _UNIT_AFTER_RE.match(text, end)
        is_subunit = unit is not None and _UNIT_WORDS[unit.group(1).lower()][1] < 1
        if start == lead.end() > position and is_subunit and value.isdigit() and int(value) < 100:
            return int(value) / 100, unit.end()
    return 0.0, position


_MATCHERS: dict[str, Callable[[str, list[NumberSpan], dt.date], list[Entity]]] = {
    "email": _emails,
    "time": _times,
    "amount-of-money": _amounts,
    "phone-number": _phone_numbers,
    "ordinal": _ordinals,
    "digits": _digits,
    "number": _numbers,
}


class BuiltinEntityExtractor:
    """Rule-based dimensions; ``dimensions=None`` enables all (Rasa's default)."""

    name = "BuiltinEntityExtractor"
    _FILE = "builtin_entity_extractor.json"

    def __init__(self, dimensions: Sequence[str] | None = None, reference_date: dt.date | None = None) -> None:
        """``reference_date`` pins "today" for relative dates (tests, replays); None = real today."""
        unknown = set(dimensions or ()) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"Unsupported dimensions {sorted(unknown)}; choose from {list(DIMENSIONS)}")
        self.dimensions = [d for d in DIMENSIONS if dimensions is None or d in dimensions]
        self.reference_date = reference_date

    def extract(self, text: str) -> list[Entity]:
        today = self.reference_date or dt.date.today()
        spans = find_number_spans(text)
        candidates = [
            (priority, entity)
            for priority, dimension in enumerate(self.dimensions)
            for entity in _MATCHERS[dimension](text, spans, today)
        ]
        kept = select_spans(
            candidates,
            span=lambda c: (c[1].start, c[1].end),
            rank=lambda c: (c[1].start - c[1].end, c[0], c[1].start),
        )
        return [entity for _, entity in kept]

    def persist(self, model_dir: str | Path) -> None:
        write_json(model_dir, self._FILE, {"dimensions": self.dimensions})

    @classmethod
    def load(cls, model_dir: str | Path) -> "BuiltinEntityExtractor":
        return cls(**read_json(model_dir, cls._FILE))
