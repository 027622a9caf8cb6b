"""Spoken numbers and ordinals in phone (ASR) transcripts (dates are in ``spoken_dates``).

Callers read numbers aloud in two styles that need different treatment:

* digit by digit, for order numbers, PINs and phone numbers: "four seven two",
  "oh two oh", "double five", or keyed/ASR digits "4 7 2 9", "4-7-2-9";
* as cardinals: "twenty three", "one hundred and five", "two thousand".

A *run* is a maximal stretch of number tokens separated only by spaces or a single
dash. Inside a run each cardinal is parsed greedily ("twenty three" = 23) and
consecutive pieces that cannot combine arithmetically are concatenated as digits
("four seven" = "47", "nineteen eighty five" = "1985", "two oh five" = "205").

Word policies (chosen to avoid mangling ordinary speech):

* "oh"/"o" are zero only inside a run with other numbers; a leading "oh" is kept
  as an interjection unless at least two more number pieces follow it
  ("oh two oh seven" = "0207", but "oh seven" stays "oh 7").
* A lone "one" stays a word ("no one", "this one", "one moment") unless it is the
  whole utterance (a menu answer) or follows a cue such as "press"/"option".
  Words containing "one" ("someone") are never touched: matching is per word.
* "a" counts only before a scale word ("a hundred"); "double"/"triple" only
  before a digit ("double check" is untouched).
* "second" after "a"/"one"/"per"/"each" is a time unit, not an ordinal.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ZERO_WORDS = {"zero", "nought", "oh", "o"}
_INTERJECTION_ZEROS = {"oh", "o"}
_REPEATERS = {"double": 2, "triple": 3}
_ONE_CUES = {"press", "pressed", "option", "choice", "extension", "number", "menu"}

_ORDINAL_UNITS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
}
_ORDINAL_WORDS = {
    **_ORDINAL_UNITS,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40,
    "fiftieth": 50, "sixtieth": 60, "seventieth": 70, "eightieth": 80,
    "ninetieth": 90, "hundredth": 100, "thousandth": 1000,
}
_TIME_UNIT_CUES = {"a", "one", "per", "each"}

_DECIMAL = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+\.[0-9]+"  # "1,000", "3.5"
_TOKEN_RE = re.compile(
    rf"[0-9]+(?:st|nd|rd|th)\b|{_DECIMAL}|[0-9]+"
    r"|[^\W\d_]+(?:'[^\W\d_]+)*",  # words, keeping "o'clock" whole
    re.IGNORECASE,
)
_DECIMAL_RE = re.compile(_DECIMAL)
_DIGIT_CHARS = set("0123456789")
_JOINER_RE = re.compile(r"\s*-?\s*")
_INTEGER_RE = re.compile(r"[0-9]+")
_NUMERIC_ORDINAL_RE = re.compile(r"([0-9]+)(?:st|nd|rd|th)")


class NumberSpan(NamedTuple):
    """A number found in text; ``sequence`` marks digit-by-digit style ("4 7 2", "double 5")."""

    start: int
    end: int
    value: str
    sequence: bool


class _Token(NamedTuple):
    start: int
    end: int
    low: str


@dataclass
class _Chunk:
    """One piece of a run: a digit, a repeated digit, a cardinal or a decimal numeral."""

    value: str
    kind: str  # "digits" | "oh" | "repeat" | "cardinal" | "decimal"
    first: int  # token index
    stop: int  # token index after the chunk


def _tokenize(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group().lower()) for m in _TOKEN_RE.finditer(text)]


def _linked(text: str, tokens: list[_Token], left: int, right: int, masked: set[int]) -> bool:
    """Tokens ``left`` and ``right`` are adjacent with only spaces or one dash between."""
    if right >= len(tokens) or left in masked or right in masked:
        return False
    return _JOINER_RE.fullmatch(text, tokens[left].end, tokens[right].start) is not None


def _word_after(text: str, tokens: list[_Token], i: int, masked: set[int]) -> str | None:
    return tokens[i + 1].low if _linked(text, tokens, i, i + 1, masked) else None


# ---------------------------------------------------------------------------
# Ordinals
# ---------------------------------------------------------------------------

def _scan_ordinals(text: str, tokens: list[_Token]) -> list[tuple[int, int, int]]:
    """Ordinals as (first token, stop token, value); they are read before numbers
    so that "twenty first" is not split into the number 20 and the word "first"."""
    found = []
    i = 0
    while i < len(tokens):
        ordinal = _ordinal_at(text, tokens, i)
        if ordinal:
            found.append(ordinal)
        i = ordinal[1] if ordinal else i + 1
    return found


def _ordinal_at(text: str, tokens: list[_Token], i: int) -> tuple[int, int, int] | None:
    low = tokens[i].low
    following = _word_after(text, tokens, i, set())
    numeric = _NUMERIC_ORDINAL_RE.fullmatch(low)
    if low in _TENS and following in _ORDINAL_UNITS:
        return i, i + 2, _TENS[low] + _ORDINAL_UNITS[following]
    if low in _ORDINAL_WORDS and not _is_time_unit(tokens, i):
        return i, i + 1, _ORDINAL_WORDS[low]
    return (i, i + 1, int(numeric.group(1))) if numeric else None


def _is_time_unit(tokens: list[_Token], i: int) -> bool:
    return tokens[i].low == "second" and i > 0 and tokens[i - 1].low in _TIME_UNIT_CUES


def find_spoken_ordinals(text: str) -> list[tuple[int, int, int]]:
    """(start, end, value) for "third", "twenty first", "21st" in the original text."""
    tokens = _tokenize(text)
    return [(tokens[a].start, tokens[b - 1].end, value) for a, b, value in _scan_ordinals(text, tokens)]


# ---------------------------------------------------------------------------
# Cardinals and digit runs
# ---------------------------------------------------------------------------

@dataclass
class _Cardinal:
    """Greedy English cardinal grammar; refuses words that cannot extend the number,
    which is where a run splits into pieces that are concatenated as digits."""

    total: int = 0
    group: int = 0  # the part below the last thousand/million
    last_scale: float = math.inf
    after_scale: bool = False
    started: bool = False

    @property
    def value(self) -> int:
        return self.total + self.group

    def _addable(self, word: str | None) -> bool:
        remainder = self.group % 100
        if word in _UNITS:
            return remainder == 0 or (remainder >= 20 and remainder % 10 == 0)
        return (word in _TEENS or word in _TENS) and remainder == 0

    def step(self, word: str, following: str | None) -> bool:
        """Consume ``word`` if it extends the number; ``following`` allows look-ahead."""
        if word == "and":
            accepted = self.after_scale and self._addable(following)
        elif word == "a" or _INTEGER_RE.fullmatch(word):
            accepted = self._start_head(word, following)
        elif word in _SCALES:
            accepted = self._scale(_SCALES[word])
        elif self._addable(word):
            self.group += _UNITS.get(word) or _TEENS.get(word) or _TENS[word]
            accepted = True
        else:
            accepted = False
        self.after_scale = accepted and word in _SCALES
        self.started = self.started or accepted
        return accepted

    def _start_head(self, word: str, following: str | None) -> bool:
        """"a hundred" and "5 thousand": a head only counts in front of a scale word."""
        head = 1 if word == "a" else int(word)
        if self.started or following not in _SCALES or head >= 1000 or word.startswith("0"):
            return False
        self.group = head
        return True

    def _scale(self, scale: int) -> bool:
        if scale == 100:
            if not 0 < self.group < 100:
                return False
            self.group *= 100
            return True
        if self.group == 0 or scale >= self.last_scale:
            return False
        self.total += self.group * scale
        self.group, self.last_scale = 0, scale
        return True


def _read_cardinal(text: str, tokens: list[_Token], i: int, masked: set[int]) -> _Chunk | None:
    cardinal = _Cardinal()
    j = i
    while j < len(tokens) and (j == i or _linked(text, tokens, j - 1, j, masked)):
        if not cardinal.step(tokens[j].low, _word_after(text, tokens, j, masked)):
            break
        j += 1
    return _Chunk(str(cardinal.value), "cardinal", i, j) if j > i else None


def _is_digit_word(word: str | None) -> bool:
    return word in _UNITS or word in _ZERO_WORDS or word in _DIGIT_CHARS


def _digit_of(word: str) -> str:
    """"5" -> "5", "five" -> "5", any zero word -> "0"."""
    return word if word in _DIGIT_CHARS else str(_UNITS.get(word, 0))


def _read_chunk(text: str, tokens: list[_Token], i: int, masked: set[int]) -> _Chunk | None:
    if i in masked:
        return None
    word = tokens[i].low
    following = _word_after(text, tokens, i, masked)
    if word in _REPEATERS and _is_digit_word(following):
        return _Chunk(_digit_of(following) * _REPEATERS[word], "repeat", i, i + 2)
    if word in _ZERO_WORDS:
        return _Chunk("0", "oh" if word in _INTERJECTION_ZEROS else "digits", i, i + 1)
    if _DECIMAL_RE.fullmatch(word):
        return _Chunk(word.replace(",", ""), "decimal", i, i + 1)
    if _INTEGER_RE.fullmatch(word) and following not in _SCALES:
        return _Chunk(word, "digits", i, i + 1)
    return _read_cardinal(text, tokens, i, masked)


def _read_run(text: str, tokens: list[_Token], i: int, masked: set[int]) -> list[_Chunk]:
    """Chunks from token ``i`` while they stay linked; decimals ("3.5", "1,000")
    always stand alone because gluing digits onto them would change their value."""
    chunks: list[_Chunk] = []
    j = i
    while j < len(tokens) and (not chunks or _linked(text, tokens, j - 1, j, masked)):
        chunk = _read_chunk(text, tokens, j, masked)
        if chunk is None or (chunk.kind == "decimal" and chunks):
            break
        chunks.append(chunk)
        j = chunk.stop
        if chunk.kind == "decimal":
            break
    return chunks


def _apply_word_policies(text: str, tokens: list[_Token], chunks: list[_Chunk]) -> list[_Chunk]:
    """Drop the pieces that are more likely ordinary words (see module docstring)."""
    while chunks and chunks[0].kind == "oh" and len(chunks) < 3:
        chunks = chunks[1:]
    if all(chunk.kind == "oh" for chunk in chunks):
        return []
    if len(chunks) == 1 and _is_lone_one(text, tokens, chunks[0]):
        return []
    return chunks


def _is_lone_one(text: str, tokens: list[_Token], chunk: _Chunk) -> bool:
    if chunk.stop - chunk.first != 1 or tokens[chunk.first].low != "one":
        return False
    whole_utterance = text.strip(" \t\n.,!?").lower() == "one"
    cued = chunk.first > 0 and tokens[chunk.first - 1].low in _ONE_CUES
    return not (whole_utterance or cued)


def _to_span(tokens: list[_Token], chunks: list[_Chunk]) -> NumberSpan:
    value = "".join(chunk.value for chunk in chunks)
    sequence = (
        len(chunks) > 1
        or chunks[0].kind == "repeat"
        or (len(value) > 1 and value.startswith("0") and chunks[0].kind != "decimal")
    )
    return NumberSpan(tokens[chunks[0].first].start, tokens[chunks[-1].stop - 1].end, value, sequence)


def find_number_spans(text: str) -> list[NumberSpan]:
    """All numbers in ``text`` with offsets into the original string and a style flag."""
    tokens = _tokenize(text)
    masked = {j for a, b, _ in _scan_ordinals(text, tokens) for j in range(a, b)}
    spans: list[NumberSpan] = []
    i = 0
    while i < len(tokens):
        chunks = _read_run(text, tokens, i, masked)
        if not chunks:
            i += 1
            continue
        kept = _apply_word_policies(text, tokens, chunks)
        if kept:
            spans.append(_to_span(tokens, kept))
        i = chunks[-1].stop
    return spans


def find_spoken_numbers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, value) for every number in the original text, e.g. "4729", "23"."""
    return [(span.start, span.end, span.value) for span in find_number_spans(text)]


def normalize_digits(text: str) -> str:
    """Replace spoken/separated numbers by digit strings, leaving other words as they are."""
    pieces, cursor = [], 0
    for start, end, value in find_spoken_numbers(text):
        pieces += [text[cursor:start], value]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)
