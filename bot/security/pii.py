"""The secrets callers say, found and masked in one place: card numbers, PINs and dates of birth.

Every stored text goes through here: tracker events (``bot.core.redaction``), call transcripts and
recordings (the voice gateway), handoff summaries and the JSON logs. Speech comes in every shape,
so numbers are read with the NLU's own normalizer: "4111 1111 1111 1111", "4111-1111-...",
"4,111,111,111,111,111" and "four one one one ..." are the same card.

* **Card numbers**: a run of 13 to 19 digits that passes the Luhn check (the payment card
  definition), any run longer than 19 digits, which could hide one, and a run of 12 or more
  digits right after "card", "visa", "credit"... (speech recognition may mishear one digit, and a
  misheard card number is still a card number).
* **PINs**: a 3 to 8 digit number within a few words of "PIN", "passcode" or "security code"
  ("my pin is two four six eight", "2468 is my PIN"). A PIN said at the PIN prompt is masked
  whatever its words, because the whole turn is (``bot.core.redaction``).
* **Dates of birth**: any date in a text that speaks of birth ("born", "birthday", "date of
  birth", "DOB"), and any full date at least 13 years back (nothing else a caller dates that far
  back is worth keeping next to their name).

Written here rather than taken from a PII library because what must be found is spoken-number
shaped ("nineteen eighty five", "double five"), which the NLU's normalizer already reads.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from bot.nlu.normalizer import find_number_spans
from bot.nlu.spoken_dates import find_spoken_dates

MASK = "[redacted]"
CARD, PIN, DATE_OF_BIRTH = "card", "pin", "date_of_birth"
MIN_CARD_DIGITS, MAX_CARD_DIGITS = 13, 19
MIN_AGE_YEARS = 13
_GROUP_PUNCTUATION = re.compile(r"[,.](?=\s|\d)")  # "4111, 1111." and "4,111,111": digit groups
_PIN_WORDS = re.compile(r"\b(?:pin|pins|pin number|pin code|passcode|pass code|security code|cvv|cvc)\b", re.I)
_PIN_REACH = 24  # characters between the keyword and the number ("pin number is", "is my")
_CARD_WORDS = re.compile(r"\b(?:card|visa|mastercard|master card|amex|american express|discover|credit|debit)\b",
                         re.I)
_CARD_REACH = 40  # "card number is", "visa card, the long number on the front is"
MIN_NAMED_CARD_DIGITS = 12
# Cheap test first: most log lines and bot sentences hold no number at all.
_NUMBER_HINT = re.compile(r"\d|\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                          r"\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|double|triple)\b",
                          re.I)
_BIRTH_WORDS = re.compile(r"\b(?:born|birth|birthday|birth date|dob|d\.? ?o\.? ?b\.?)\b", re.I)


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str  # card | pin | date_of_birth


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _is_card(digits: str, named: bool) -> bool:
    """``named``: the text says "card" (or a card brand) just before the digits."""
    return (len(digits) > MAX_CARD_DIGITS or (len(digits) >= MIN_CARD_DIGITS and luhn_valid(digits))
            or (named and len(digits) >= MIN_NAMED_CARD_DIGITS))


def _near_pin_word(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _PIN_REACH):start]
    after = text[end:end + _PIN_REACH]
    return bool(_PIN_WORDS.search(before) or _PIN_WORDS.search(after))


def find_pii(text: str, today: dt.date | None = None) -> list[PiiSpan]:
    """Card numbers, PINs and dates of birth in ``text``, as spans of the original string."""
    if not text or not (_NUMBER_HINT.search(text) or _BIRTH_WORDS.search(text)):
        return []
    today = today or dt.date.today()
    found: list[PiiSpan] = []
    speaks_of_birth = bool(_BIRTH_WORDS.search(text))
    for start, end, day in find_spoken_dates(text, today):  # first: a date's digits are not a PIN
        if speaks_of_birth or (1900 <= day.year <= today.year - MIN_AGE_YEARS):
            found.append(PiiSpan(start, end, DATE_OF_BIRTH))
    for span in find_number_spans(_GROUP_PUNCTUATION.sub(" ", text)):
        digits = re.sub(r"\D", "", span.value)
        if _is_card(digits, bool(_CARD_WORDS.search(text[max(0, span.start - _CARD_REACH):span.start]))):
            found.append(PiiSpan(span.start, span.end, CARD))
        elif 3 <= len(digits) <= 8 and _near_pin_word(text, span.start, span.end):
            found.append(PiiSpan(span.start, span.end, PIN))
    return _merged(found)


def _merged(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Overlapping spans as one (the earlier-found kind wins a tie), in text order."""
    merged: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = PiiSpan(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return merged


def mask_pii(text: str, today: dt.date | None = None) -> str:
    """``text`` with each card number, PIN and date of birth replaced by ``[redacted]``."""
    spans = find_pii(text, today)
    if not spans:
        return text
    pieces, cursor = [], 0
    for span in spans:
        pieces += [text[cursor:span.start], MASK]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def contains_pii(text: str | None) -> bool:
    return bool(text) and bool(find_pii(text))


def mask_value(value: Any) -> Any:
    """Strings masked, lists and mappings masked inside (slot values, log fields); other values as they are."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(item) for item in value]
    return value


def mask_number(number: str | None, visible: int = 4) -> str:
    """A phone number as call histories keep it: its last ``visible`` digits, the rest dotted ("•••••••1234")."""
    digits = re.sub(r"\D", "", number or "")
    if not digits:
        return ""
    shown = digits[-visible:] if len(digits) > visible else ""
    return "•" * (len(digits) - len(shown)) + shown
