"""Two calls in the records of a real app, one with real WAV recordings: for the call-history API and page tests."""
from __future__ import annotations

import time
import wave
from contextlib import asynccontextmanager

import numpy as np
from aiohttp.test_utils import TestClient, TestServer

from handoff.records.model import CONTAINED, HANDED_OFF, CallRecord, Turn
from handoff.records.sqlite_store import SqliteCallRecordStore
from helpline.app import build_app
from tests.conftest import ROOT

RATE = 8000
DAY = 86400
# Call a started at 10:00 UTC two days ago, call b a day later: inside the pages' default 30 days.
BASE = (int(time.time()) // DAY - 2) * DAY + 36000


def write_wav(path, seconds: float, frequency: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.sin(2 * np.pi * frequency * t) * 8000).astype("<i2").tobytes())


@asynccontextmanager
async def call_history_server(demo_archive, tmp_path, monkeypatch):
    """The real app serving two recorded calls; ``client.records`` is a second store on its records file."""
    from voice_gateway.config import RecordingConfig
    from voice_gateway.server import SERVICES_KEY

    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    app = build_app(ROOT, demo_archive)
    recordings = tmp_path / "recordings"
    app[SERVICES_KEY].config.recording = RecordingConfig(enabled=True, dir=recordings)
    write_wav(recordings / "20261130-call-a" / "caller.wav", 3.0, 440)
    write_wav(recordings / "20261130-call-a" / "bot.wav", 2.0, 660)
    write_wav(tmp_path / "secret.wav", 1.0, 100)
    store = SqliteCallRecordStore(tmp_path / "data" / "records.sqlite3")
    await store.start(CallRecord(
        "call-a", "twilio", BASE, caller="•••••••0001", ended_at=BASE + 90, outcome=HANDED_OFF,
        queue="orders", agent_id="alice", queued_at=BASE + 20, answered_at=BASE + 30,
        agent_ended_at=BASE + 80, wrap_up_seconds=12.0, escalation_reason="caller_request",
        summary={"reason": "caller_request", "text": "Caller asked about order 472918"}, notes="Sent a new tracking link",
        recordings={"caller": "20261130-call-a/caller.wav", "bot": "20261130-call-a/bot.wav"}, qa_score=45.0,
        qa_flags=["failed:resolved", "phrase:lawyer", "review"],
        turns=[Turn(0.0, "bot", "Welcome to Northwind.", actions=["utter_greet"]),
               Turn(0.9, "caller", "I want a lawyer about my order", intent="check_order_status", confidence=0.81,
                    actions=["order_status_form"], sentiment=-0.8, barge_in=True),
               Turn(1.5, "bot", "Which order is it? Key in or say its number."),
               Turn(2.2, "caller", "keypad: 472918", intent="inform", confidence=1.0,
                    actions=["order_status_form", "action_order_status"], slots={"order_number": "472918"}),
               Turn(2.6, "agent", "(agent leg: not transcribed)")]))
    await store.start(CallRecord("call-b", "sip", BASE + DAY, caller="•••••••0002", ended_at=BASE + DAY + 30,
                                 outcome=CONTAINED, qa_score=100.0, recordings={"caller": "../secret.wav"},
                                 turns=[Turn(1.0, "caller", "where is my parcel", intent="check_order_status")]))
    async with TestClient(TestServer(app)) as client:
        client.records = store
        yield client
    await store.close()


