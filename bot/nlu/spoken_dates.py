"""Dates in phone (ASR) transcripts: spoken ("the twenty third of March"), keyed and relative ones.

Callers give dates of birth, delivery days and appointments in many forms; each is found with its
place in the transcript so entity extraction and PII masking can use the same spans.

Numeric dates are US month/day/year ("03/05/1985" is March 5th, 1985);
ISO "1985-03-05" is also accepted. A date without a year resolves to its next
occurrence on or after ``today`` (Duckling's behaviour). "next Monday" is the
first Monday strictly after today, "this/bare Monday" the first on or after today,
"last Monday" the most recent one strictly before today.
"""
from __future__ import annotations

import datetime as dt
import re

from bot.nlu.entities import select_spans
from bot.nlu.normalizer import _ORDINAL_WORDS, _TEENS, _TENS, _UNITS, find_spoken_numbers

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_WEEKDAYS = {
    name: index for index, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
_RELATIVE_DAYS = {
    "today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1,
    "day after tomorrow": 2, "day before yesterday": -2,
}


_CARDINAL_NAMES = {value: word for word, value in {**_UNITS, **_TEENS, **_TENS}.items()}
_ORDINAL_NAMES = {value: word for word, value in _ORDINAL_WORDS.items()}


def _spell(n: int, names: dict[int, str]) -> str:
    """Words for 1 <= n < 100; ``names`` picks cardinal or ordinal style for the last word."""
    return names.get(n) or f"{_CARDINAL_NAMES[n - n % 10]} {names[n % 10]}"


_DAY_WORDS = {spelled: n for n in range(1, 32) for spelled in (_spell(n, _CARDINAL_NAMES), _spell(n, _ORDINAL_NAMES))}


def _phrase_key(spoken: str) -> str:
    """Canonical lookup key for a matched phrase: "Twenty-Third" -> "twenty third"."""
    return " ".join(re.split(r"[\s-]+", spoken.lower()))


def _alternation(phrases) -> str:
    """Longest-first alternation so "twenty third" wins over "twenty"."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in ordered)


_DAY = rf"(?P<day>[0-9]{{1,2}}(?:st|nd|rd|th)?|{_alternation(_DAY_WORDS)})"
_MONTH = rf"(?P<month>{_alternation(_MONTHS)})\.?"
_WEEKDAY_PREFIX = rf"(?:(?:{_alternation(_WEEKDAYS)}),?\s+)?"
_DATE_PATTERNS = [
    re.compile(rf"(?<!\w){_WEEKDAY_PREFIX}(?:the\s+)?{_DAY}(?:\s+of)?\s+{_MONTH}(?!\w)", re.I),
    re.compile(rf"(?<!\w){_WEEKDAY_PREFIX}{_MONTH}\s+(?:the\s+)?{_DAY}(?!\w)", re.I),
]
_US_NUMERIC_RE = re.compile(r"(?<![\w/.-])([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![\w/.-])")
_ISO_RE = re.compile(r"(?<![\w/.-])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![\w/.-])")
_RELATIVE_RE = re.compile(rf"(?<!\w)(?:the\s+)?({_alternation(_RELATIVE_DAYS)})(?!\w)", re.I)
_WEEKDAY_RE = re.compile(rf"(?<!\w)(?:(next|this|last|coming)\s+)?({_alternation(_WEEKDAYS)})(?!\w)", re.I)
_YEAR_LEAD_RE = re.compile(r",?\s+(?:of\s+|in\s+)?")

_DateSpan = tuple[int, int, dt.date]


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _upcoming(month: int, day: int, today: dt.date) -> dt.date | None:
    """Year-less dates mean the next occurrence, as in Duckling (Feb 29 may be 4 years out)."""
    for year in range(today.year, today.year + 5):
        candidate = _safe_date(year, month, day)
        if candidate and candidate >= today:
            return candidate
    return None


def _day_number(spoken: str) -> int:
    digits = re.match(r"[0-9]+", spoken)
    return int(digits.group()) if digits else _DAY_WORDS[_phrase_key(spoken)]


def _year_after(text: str, end: int) -> tuple[int, int] | None:
    """A 4-digit year following a day/month, spoken ("nineteen eighty five") or keyed."""
    lead = _YEAR_LEAD_RE.match(text, end)
    if not lead:
        return None
    numbers = find_spoken_numbers(text[lead.end():])
    if not numbers or numbers[0][0] != 0:
        return None
    _, length, value = numbers[0]
    if not re.fullmatch(r"[12][0-9]{3}", value):
        return None
    return int(value), lead.end() + length


def _spoken_dates(text: str, today: dt.date) -> list[_DateSpan]:
    found = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            month, day = _MONTHS[m.group("month").lower()], _day_number(m.group("day"))
            year = _year_after(text, m.end())
            date = _safe_date(year[0], month, day) if year else _upcoming(month, day, today)
            if date:
                found.append((m.start(), year[1] if year else m.end(), date))
    return found


def _two_digit_year(yy: int, today: dt.date) -> int:
    """Pick the century that keeps the year at most ten years in the future."""
    return 2000 + yy if 2000 + yy <= today.year + 10 else 1900 + yy


def _numeric_dates(text: str, today: dt.date) -> list[_DateSpan]:
    found = []
    for m in _US_NUMERIC_RE.finditer(text):
        year = int(m.group(4))
        year = _two_digit_year(year, today) if len(m.group(4)) == 2 else year
        found.append((m.start(), m.end(), _safe_date(year, int(m.group(1)), int(m.group(3)))))
    for m in _ISO_RE.finditer(text):
        found.append((m.start(), m.end(), _safe_date(*(int(g) for g in m.groups()))))
    return [span for span in found if span[2]]


def _relative_dates(text: str, today: dt.date) -> list[_DateSpan]:
    found = []
    for m in _RELATIVE_RE.finditer(text):
        found.append((m.start(), m.end(), today + dt.timedelta(days=_RELATIVE_DAYS[_phrase_key(m.group(1))])))
    for m in _WEEKDAY_RE.finditer(text):
        modifier = (m.group(1) or "this").lower()
        found.append((m.start(), m.end(), _weekday_date(_WEEKDAYS[m.group(2).lower()], modifier, today)))
    return found


def _weekday_date(weekday: int, modifier: str, today: dt.date) -> dt.date:
    if modifier == "last":
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
    ahead = (weekday - today.weekday()) % 7
    if modifier in ("next", "coming"):
        ahead = ahead or 7
    return today + dt.timedelta(days=ahead)


def find_spoken_dates(text: str, today: dt.date | None = None) -> list[_DateSpan]:
    """(start, end, date) for every date expression; overlaps resolve to the longest."""
    today = today or dt.date.today()
    candidates = _spoken_dates(text, today) + _numeric_dates(text, today) + _relative_dates(text, today)
    return select_spans(candidates, span=lambda c: (c[0], c[1]), rank=lambda c: (c[0] - c[1], c[0]))


def parse_spoken_date(text: str, today: dt.date | None = None) -> dt.date | None:
    """The first date mentioned in ``text``, or None."""
    dates = find_spoken_dates(text, today)
    return dates[0][2] if dates else None
