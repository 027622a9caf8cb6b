import datetime as dt

import pytest

from bot.nlu.normalizer import (
    find_number_spans,
    find_spoken_numbers,
    find_spoken_ordinals,
    normalize_digits,
)
from bot.nlu.spoken_dates import find_spoken_dates, parse_spoken_date

WEDNESDAY = dt.date(2024, 6, 12)


@pytest.mark.parametrize(
    "spoken, expected",
    [
        ("four seven two nine one eight", "472918"),
        ("oh two oh seven nine four six", "0207946"),
        ("o four seven two", "0472"),
        ("double five", "55"),
        ("triple seven", "777"),
        ("double oh seven", "007"),
        ("nine hundred", "900"),
        ("twenty three", "23"),
        ("twenty-three", "23"),
        ("one hundred and five", "105"),
        ("one hundred five", "105"),
        ("two thousand", "2000"),
        ("two thousand and twenty four", "2024"),
        ("a hundred", "100"),
        ("5 hundred", "500"),
        ("one million two hundred thousand", "1200000"),
        ("nineteen eighty five", "1985"),
        ("twenty twenty four", "2024"),
        ("two oh five", "205"),
        ("4 7 two nine", "4729"),
        ("4 7 2 9", "4729"),
        ("4-7-2-9", "4729"),
        ("555-1234", "5551234"),
        ("zero", "0"),
        ("one", "1"),
    ],
)
def test_normalize_digits_whole_utterance(spoken, expected):
    assert normalize_digits(spoken) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my order number is four seven two nine", "my order number is 4729"),
        ("I have two kids and three dogs", "I have 2 kids and 3 dogs"),
        ("press one for billing", "press 1 for billing"),
        ("I paid 1,000.50 and 3.5", "I paid 1000.50 and 3.5"),
        ("seven o'clock", "7 o'clock"),
        ("twenty, three", "20, 3"),
    ],
)
def test_normalize_digits_in_sentences(text, expected):
    assert normalize_digits(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "someone said no one wants a new one",
        "this one please",
        "one moment",
        "oh no",
        "oh one more thing",
        "double check that",
        "wait a second",
        "o k",
        "the twenty first of May",
        "hello there",
    ],
)
def test_words_that_only_look_numeric_are_kept(text):
    assert normalize_digits(text) == text


def test_leading_oh_is_an_interjection_unless_more_digits_follow():
    assert normalize_digits("oh seven") == "oh 7"
    assert normalize_digits("oh seven four") == "074"


def test_find_spoken_numbers_reports_offsets_into_original_text():
    text = "my pin is four seven two nine, and I'm twenty three"
    found = find_spoken_numbers(text)
    assert [(text[s:e], v) for s, e, v in found] == [("four seven two nine", "4729"), ("twenty three", "23")]


def test_number_spans_flag_digit_by_digit_style():
    spans = {s.value: s.sequence for s in find_number_spans("double five, twenty three, 0472, 900")}
    assert spans == {"55": True, "23": False, "0472": True, "900": False}


def test_decimals_stand_alone_instead_of_gluing_to_neighbours():
    assert find_spoken_numbers("3.5 2") == [(0, 3, "3.5"), (4, 5, "2")]


def test_ordinals():
    text = "the twenty first, the 3rd and the second one, wait a second"
    found = find_spoken_ordinals(text)
    assert [(text[s:e], v) for s, e, v in found] == [("twenty first", 21), ("3rd", 3), ("second", 2)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the third of May", dt.date(2025, 5, 3)),  # already past in 2024: next occurrence
        ("June the twentieth", dt.date(2024, 6, 20)),
        ("May 3rd", dt.date(2025, 5, 3)),
        ("3rd May 1985", dt.date(1985, 5, 3)),
        ("May 3, 1985", dt.date(1985, 5, 3)),
        ("born on the twenty-third of May nineteen eighty five", dt.date(1985, 5, 23)),
        ("march twenty first two thousand and five", dt.date(2005, 3, 21)),
        ("Sept 9th of 2023", dt.date(2023, 9, 9)),
        ("03/05/1985", dt.date(1985, 3, 5)),  # US month/day
        ("3/5/85", dt.date(1985, 3, 5)),
        ("12-25-2024", dt.date(2024, 12, 25)),
        ("1985-03-05", dt.date(1985, 3, 5)),
        ("today", WEDNESDAY),
        ("tomorrow please", dt.date(2024, 6, 13)),
        ("yesterday", dt.date(2024, 6, 11)),
        ("the day after tomorrow", dt.date(2024, 6, 14)),
        ("next Monday", dt.date(2024, 6, 17)),
        ("next Wednesday", dt.date(2024, 6, 19)),
        ("this Wednesday", WEDNESDAY),
        ("on friday", dt.date(2024, 6, 14)),
        ("last Wednesday", dt.date(2024, 6, 5)),
        ("Monday the 3rd of June 2024", dt.date(2024, 6, 3)),
        ("February 29th", dt.date(2028, 2, 29)),
    ],
)
def test_parse_spoken_date(text, expected):
    assert parse_spoken_date(text, today=WEDNESDAY) == expected


@pytest.mark.parametrize("text", ["February 30", "13/45/2020", "May I help you", "order 4729", "the 3rd one", ""])
def test_parse_spoken_date_rejects_non_dates(text):
    assert parse_spoken_date(text, today=WEDNESDAY) is None


def test_find_spoken_dates_returns_spans_in_text_order():
    text = "not the third of May but next monday"
    found = find_spoken_dates(text, today=WEDNESDAY)
    assert [(text[s:e], d) for s, e, d in found] == [
        ("the third of May", dt.date(2025, 5, 3)),
        ("next monday", dt.date(2024, 6, 17)),
    ]


def test_parse_spoken_date_defaults_to_real_today():
    assert parse_spoken_date("today") == dt.date.today()
