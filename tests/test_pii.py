"""Card numbers, PINs and dates of birth: found however they are said, and in no stored byte.

The detector on its own, then the demo bot over real HTTP: a caller volunteers secrets outside
the PIN prompt, and neither the SQLite tracker file, the tracker API, the handoff summary nor
the JSON logs hold them.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.rest import PROCESSOR_KEY
from bot.security.pii import CARD, DATE_OF_BIRTH, PIN, find_pii, luhn_valid, mask_pii
from helpline.app import build_app
from tests.auth_support import use_api_token
from tests.conftest import ROOT
from tests.log_capture import json_logs

TODAY = dt.date(2026, 5, 1)


@pytest.mark.parametrize("text, masked", [
    ("my card number is 4111 1111 1111 1111", "my card number is [redacted]"),
    ("card 4111-1111-1111-1111 thanks", "card [redacted] thanks"),
    ("it's 4,111,111,111,111,111.", "it's [redacted]."),
    ("four one one one, one one one one, one one one one, one one one one", "[redacted]"),
    ("5555555555554444 expires soon", "[redacted] expires soon"),                # Mastercard test number
    ("378282246310005", "[redacted]"),                                           # 15-digit Amex
    ("my visa card is 4111 1111 1111 111", "my visa card is [redacted]"),        # misheard, still a card
    ("my pin is two four six eight", "my pin is [redacted]"),
    ("2468 is my PIN", "[redacted] is my PIN"),
    ("the pin number is 8 6 4 2 ok", "the pin number is [redacted] ok"),
    ("I was born on march fourteenth nineteen eighty five", "I was born on [redacted]"),
    ("date of birth 3/14/1985", "date of birth [redacted]"),
    ("it's march 14th, 1985", "it's [redacted]"),                                  # a full date long ago
    ("my birthday is the ninth of september", "my birthday is [redacted]"),
])
def test_secrets_are_masked_however_they_are_said(text, masked):
    assert mask_pii(text, TODAY) == masked


@pytest.mark.parametrize("text", [
    "where is my order 472918",
    "call me back on 555 123 0001",
    "reference 4111 1111 1111 1112",                  # fails the Luhn check, no card named: not a card
    "it should arrive friday may third",
    "I ordered it on april 2nd, 2025",
    "For your security, please say or key in your four digit account PIN. If you don't have one, you can "
    "tell me your date of birth instead, and then an order number.",
    "Your trade account balance is one hundred twenty four dollars and fifty cents.",
])
def test_ordinary_speech_is_left_alone(text):
    assert mask_pii(text, TODAY) == text


def test_kinds_and_luhn():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    spans = find_pii("card 4111111111111111, pin 2468, born 1985-03-14", TODAY)
    assert [span.kind for span in spans] == [CARD, PIN, DATE_OF_BIRTH]


# --- End to end over the REST channel ---------------------------------------------------------------

CARD_NUMBER = "4111111111111111"
VOLUNTEERED = ["hi my card number is 4111 1111 1111 1111 where is my order",
               "it's four one one one one one one one one one one one one one one one",
               "my pin is eight six four two",
               "i was born on march fourteenth nineteen eighty five",
               "agent please"]
SECRETS = [re.compile(p) for p in (
    rb"4111[ -]?1111", rb"one one one one one", rb"(?<![0-9a-f.])8642(?![0-9a-f])", rb"eight six four two",
    rb"1985-03-14", rb"march fourteenth", rb"nineteen eighty five")]


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    headers = use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(ROOT, demo_archive)), headers=headers) as test_client:
        test_client.data_dir = tmp_path / "data"
        yield test_client


def leaks(data: bytes) -> list[str]:
    return [pattern.pattern.decode() for pattern in SECRETS if pattern.search(data)]


async def test_volunteered_secrets_are_in_no_stored_byte(client):
    with json_logs() as logs:
        for text in VOLUNTEERED:
            response = await client.post("/webhooks/rest/webhook", json={"sender": "v1", "message": text,
                                                                        "metadata": {"caller_number": "+15551230001"}})
            assert response.status == 200
    state = await (await client.get("/conversations/v1/tracker")).json()
    assert state["paused"]  # handed to a person, with a summary
    stored = b"".join(path.read_bytes() for path in client.data_dir.glob("trackers.sqlite3*"))
    assert b"where is my order" in stored and b"[redacted]" in stored  # the conversation is there, masked
    assert leaks(stored) == []
    assert leaks(json.dumps(state).encode()) == []
    call = await client.server.app[PROCESSOR_KEY].handoff.acd.store.get_call("v1")
    summary = json.dumps(call.summary).encode()
    assert b"[redacted]" in summary and leaks(summary) == []
    acd_bytes = b"".join(path.read_bytes() for path in client.data_dir.glob("handoff.sqlite3*"))
    assert leaks(acd_bytes) == []
    assert "escalation triggered" in logs.getvalue() and leaks(logs.getvalue().encode()) == []
