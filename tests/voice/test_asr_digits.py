"""Digits-mode text: what a recogniser wrote -> the digit string the caller meant."""
from __future__ import annotations

import pytest

from bot.nlu.normalizer import normalize_digits
from voice_gateway.asr.digits import digit_transcript, extract_digits


@pytest.mark.parametrize("heard, expected", [
    ("472918", "4 7 2 9 1 8"),
    ("6-0-1-8, 7-6.", "6 0 1 8 7 6"),
    ("Four, seven, to nine.", "4 7 2 9"),  # homophones in a digit string
    ("for ate won", "4 8 1"),
    ("double five oh two", "5 5 0 2"),
    ("My order number is 4 7 2 9 1 8", "4 7 2 9 1 8"),
    ("Zero.", "0"),
    ("I want to talk to an agent", "I want to talk to an agent"),  # not about digits: unchanged
    ("The year room.", "The year room."),
])
def test_digit_transcript(heard, expected):
    assert digit_transcript(heard) == expected


def test_spaced_digits_are_what_the_bots_normalizer_reads_as_one_number():
    assert normalize_digits(digit_transcript("four seven two nine one eight")) == "472918"


def test_korean_digit_words():
    assert digit_transcript("삼 이 일 공", "ko") == "3 2 1 0"


def test_homophones_can_be_left_out():
    assert extract_digits("talk to me", homophones=False) == ("", 3)
    assert extract_digits("talk to me") == ("2", 2)
