"""Text as a TTS voice should read it on the phone.

Piper (through espeak-ng) reads "$42.50" as "dollar forty two point five zero" and "472918" as
"four hundred seventy two thousand...". Callers need money in words, identifiers digit by digit
("order 472918" -> "order four seven two nine one eight"), dates as "March fifth, twenty twenty
six", times as "ten thirty". The bot's demo actions already write their sentences this way; this
pass makes any reply (custom actions, operator content) read just as well, and leaves words alone.
"""
from __future__ import annotations

import re
from datetime import date

from bot.spoken import number_words, ordinal_words, speak_digits, speak_money

# Numbers this long, or right after one of these words, are identifiers: read digit by digit.
ID_MIN_DIGITS = 5
_ID_CUES = r"(?:order|number|no\.|pin|account|extension|ext\.|reference|ref\.|confirmation|code|id)"
_MONTH_NAMES = ("January February March April May June July August September October November December").split()

_MONEY_RE = re.compile(r"\$\s?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{2}))?\b")
_ISO_DATE_RE = re.compile(r"\b([12][0-9]{3})-([01]?[0-9])-([0-3]?[0-9])\b")
_US_DATE_RE = re.compile(r"\b([01]?[0-9])/([0-3]?[0-9])/([12][0-9]{3})\b")
_TIME_RE = re.compile(r"\b([0-2]?[0-9]):([0-5][0-9])(?:\s?([ap])\.?m\.?\b)?", re.IGNORECASE)
_HASH_RE = re.compile(r"#\s?(?=[0-9])")
_CUED_ID_RE = re.compile(rf"(\b{_ID_CUES}\s*(?:number\s*)?)([0-9][0-9 -]*[0-9]|[0-9])", re.IGNORECASE)
_PHONE_RE = re.compile(r"\b(?:\d{3}[-.]\d{3}[-.]\d{4}|\d{3}[-.]\d{4})\b")
_LONG_NUMBER_RE = re.compile(rf"\b[0-9]{{{ID_MIN_DIGITS},}}\b")
_PERCENT_RE = re.compile(r"\b([0-9]+(?:\.[0-9]+)?)\s?%")
_ORDINAL_RE = re.compile(r"\b([0-9]+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_DECIMAL_RE = re.compile(r"\b([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?\b")
_SYMBOLS = {"&": " and ", "+": " plus ", "@": " at "}


def normalize_for_speech(text: str) -> str:
    """Rewrite money, dates, times, identifiers and other numbers in ``text`` as words."""
    text = _MONEY_RE.sub(_money, text)
    text = _ISO_DATE_RE.sub(lambda m: _date(m.group(1), m.group(2), m.group(3)), text)
    text = _US_DATE_RE.sub(lambda m: _date(m.group(3), m.group(1), m.group(2)), text)
    text = _TIME_RE.sub(_time, text)
    text = _HASH_RE.sub("number ", text)
    text = _CUED_ID_RE.sub(lambda m: m.group(1) + speak_digits(re.sub(r"\D", "", m.group(2))), text)
    text = _PHONE_RE.sub(lambda m: ", ".join(speak_digits(group) for group in re.split(r"[-.]", m.group())), text)
    text = _LONG_NUMBER_RE.sub(lambda m: speak_digits(m.group()), text)
    text = _PERCENT_RE.sub(lambda m: f"{_number(m.group(1))} percent", text)
    text = _ORDINAL_RE.sub(lambda m: ordinal_words(int(m.group(1))), text)
    text = _DECIMAL_RE.sub(lambda m: _number(m.group()), text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    return re.sub(r"\s{2,}", " ", text).strip()


def _money(match: re.Match) -> str:
    dollars = int(match.group(1).replace(",", ""))
    return speak_money(dollars * 100 + int(match.group(2) or 0))


def _number(numeral: str) -> str:
    """ "1,200" -> "one thousand two hundred", "3.75" -> "three point seven five"."""
    whole, _, fraction = numeral.replace(",", "").partition(".")
    spoken = number_words(int(whole))
    return f"{spoken} point {speak_digits(fraction)}" if fraction else spoken


def year_words(year: int) -> str:
    """1985 -> "nineteen eighty five", 2026 -> "twenty twenty six", 2005 -> "two thousand five"."""
    high, low = divmod(year, 100)
    if 2000 <= year < 2010 or low == 0 and year % 1000 == 0:
        return number_words(year)
    if low == 0:
        return f"{number_words(high)} hundred"
    return f"{number_words(high)} {'oh ' if low < 10 else ''}{number_words(low)}"


def _date(year: str, month: str, day: str) -> str:
    try:
        when = date(int(year), int(month), int(day))
    except ValueError:
        return f"{year}-{month}-{day}".replace("-", " ")
    return f"{_MONTH_NAMES[when.month - 1]} {ordinal_words(when.day)}, {year_words(when.year)}"


def _time(match: re.Match) -> str:
    hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 23:
        return match.group()
    spoken = number_words(hour)
    if minute == 0:
        spoken += "" if half else " o'clock"
    else:
        spoken += f" {'oh ' if minute < 10 else ''}{number_words(minute)}"
    return f"{spoken} {half.lower()} m" if half else spoken
