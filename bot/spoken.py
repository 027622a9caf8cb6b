"""Numbers as a caller should hear them: IDs digit by digit, amounts and ordinals in words.

Shared by the demo's actions, which build sentences from CRM data, and the voice gateway's TTS
normalizer, which reads any reply aloud.
"""
from __future__ import annotations

_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"), (100, "hundred"))
_IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                       "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def speak_digits(digits: str) -> str:
    """ "472918" -> "four seven two nine one eight": how people read back an ID."""
    return " ".join(_SMALL[int(digit)] for digit in digits)


def number_words(n: int) -> str:
    """Non-negative integer as a TTS engine should say it: 124 -> "one hundred twenty four"."""
    if n < 20:
        return _SMALL[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f" {_SMALL[unit]}" if unit else "")
    size, name = next(scale for scale in _SCALES if n >= scale[0])
    high, rest = divmod(n, size)
    return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")


def ordinal_words(n: int) -> str:
    """3 -> "third", 21 -> "twenty first", 30 -> "thirtieth"."""
    *head, last = number_words(n).split()
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def speak_money(cents: int) -> str:
    """12450 -> "one hundred twenty four dollars and fifty cents"; 0 -> "zero dollars"."""
    dollars, rest = divmod(cents, 100)
    parts = []
    if dollars or not rest:
        parts.append(f"{number_words(dollars)} dollar{'' if dollars == 1 else 's'}")
    if rest:
        parts.append(f"{number_words(rest)} cent{'' if rest == 1 else 's'}")
    return " and ".join(parts)
