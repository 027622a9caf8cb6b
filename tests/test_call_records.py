"""Both call-record stores keep a call's record and turns exactly, filter the call list, and lose at most
the turn being spoken when the process dies (real SQLite and real PostgreSQL, one fixture)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from handoff.records import create_records_store, records_store_url
from handoff.records import sql_base
from handoff.records.base import CallFilter
from handoff.records.model import ABANDONED, CONTAINED, HANDED_OFF, CallRecord, Review, Turn
from handoff.records.postgres_store import PostgresCallRecordStore
from handoff.records.sqlite_store import SqliteCallRecordStore
from tests import needs
from tests.needs import POSTGRES_DSN
from tests.records_support import RecordsBackend

ROOT = Path(__file__).resolve().parents[1]


def full_record(call_id: str = "c-1", started_at: float = 1000.0) -> CallRecord:
    return CallRecord(
        id=call_id, channel="twilio", started_at=started_at, caller="•••••••1234", ended_at=started_at + 90,
        outcome=HANDED_OFF, escalation_reason="requested", queue="billing", agent_id="alice",
        queued_at=started_at + 30, answered_at=started_at + 42, agent_ended_at=started_at + 85,
        wrap_up_seconds=12.5, summary={"reason": "requested", "intents": ["check_balance"]}, notes="refund sent",
        recordings={"caller": f"{call_id}-caller.wav", "agent": f"{call_id}-agent.wav"}, qa_score=72.5,
        qa_flags=["phrase:lawyer"],
        turns=[Turn(at=0.5, speaker="bot", text="Welcome to Northwind.", actions=["utter_greet"]),
               Turn(at=3.2, speaker="caller", text="my balance please", intent="check_balance", confidence=0.91,
                    actions=["balance_form"], sentiment=0.1, barge_in=True),
               Turn(at=6.0, speaker="caller", text="••••", intent="inform", sensitive=True, fallback=False,
                    article="hours", knowledge="answered")])


async def test_round_trip_keeps_every_field(records):
    record = full_record()
    await records.start(record)
    assert await records.get("c-1") == record
    assert await records.get("nope") is None


async def test_start_is_idempotent_and_turns_append_in_order(records):
    await records.start(CallRecord("c-2", "pcm", 5.0))
    await records.start(CallRecord("c-2", "pcm", 5.0, caller="other"))
    for i in range(5):
        await records.add_turn("c-2", Turn(at=float(i), speaker="caller" if i % 2 else "bot", text=f"line {i}"))
    got = await records.get("c-2")
    assert got.caller == ""
    assert [t.text for t in got.turns] == [f"line {i}" for i in range(5)]


async def test_update_changes_fields_and_refuses_unknown_ones(records):
    await records.start(CallRecord("c-3", "rest", 10.0))
    await records.update("c-3", outcome=ABANDONED, queue="general", queued_at=12.0, qa_flags=["silence"],
                         summary={"reason": "fallback"})
    got = await records.get("c-3")
    assert (got.outcome, got.queue, got.queued_at, got.qa_flags, got.summary) == (
        ABANDONED, "general", 12.0, ["silence"], {"reason": "fallback"})
    with pytest.raises(ValueError):
        await records.update("c-3", colour="red")
    with pytest.raises(ValueError):
        await records.update("c-3", turns=[])
    with pytest.raises(KeyError):
        await records.update("missing", outcome=CONTAINED)


async def test_a_second_store_sees_each_turn_as_soon_as_it_is_added(records_backend, records):
    other = records_backend.open()
    try:
        await records.start(CallRecord("c-4", "twilio", 1.0))
        await records.add_turn("c-4", Turn(at=1.0, speaker="caller", text="hello"))
        assert [t.text for t in (await other.get("c-4")).turns] == ["hello"]
        assert [r.id for r in await other.open_calls()] == ["c-4"]
    finally:
        await other.close()


WRITER = """
import asyncio, os, signal, sys
from handoff.records import create_records_store
from handoff.records.model import CallRecord, Turn
from tests.records_support import RecordsBackend

async def main():
    backend = RecordsBackend(sys.argv[1], __import__("pathlib").Path(sys.argv[2]))
    backend.prefix = sys.argv[3]
    store = backend.open()
    await store.start(CallRecord("crash-1", "twilio", 100.0))
    for i in range(3):
        await store.add_turn("crash-1", Turn(at=float(i), speaker="caller", text=f"turn {i}"))
    print("written", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush: what kill -9 leaves

asyncio.run(main())
"""


async def test_kill_9_keeps_every_finished_turn(records_backend, records, tmp_path):
    """A process killed mid-call leaves its record open (crash recovery finds it) with every turn it finished."""
    result = subprocess.run([sys.executable, "-c", WRITER, records_backend.kind, str(tmp_path), records_backend.prefix],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "written" in result.stdout
    record = await records.get("crash-1")
    assert [t.text for t in record.turns] == ["turn 0", "turn 1", "turn 2"]
    assert [r.id for r in await records.open_calls()] == ["crash-1"]


async def call_list(records) -> None:
    calls = [
        CallRecord("a", "twilio", 100.0, caller="•••••••1234", outcome=CONTAINED, ended_at=150.0, qa_score=95.0,
                   turns=[Turn(0, "caller", "where is my order", intent="order_status")]),
        CallRecord("b", "sip", 200.0, caller="•••••••9876", outcome=HANDED_OFF, queue="billing", agent_id="alice",
                   qa_score=40.0, qa_flags=["phrase:lawyer"], ended_at=300.0,
                   turns=[Turn(0, "caller", "I want a Lawyer about 100% of this", intent="complaint")]),
        CallRecord("c", "pcm", 300.0, caller="•••••••1234", outcome=ABANDONED, queue="general", qa_score=60.0,
                   ended_at=320.0, turns=[Turn(0, "caller", "check_balance_x", intent="check_balance")]),
        CallRecord("d", "pcm", 400.0, synthetic=True, outcome=CONTAINED, ended_at=410.0),
    ]
    for call in calls:
        await records.start(call)


@pytest.mark.parametrize("where, expected", [
    (CallFilter(), ["c", "b", "a"]),
    (CallFilter(since=200.0, until=300.0), ["b"]),
    (CallFilter(caller="1234"), ["c", "a"]),
    (CallFilter(intent="order_status"), ["a"]),
    (CallFilter(outcome=HANDED_OFF), ["b"]),
    (CallFilter(queue="general"), ["c"]),
    (CallFilter(agent_id="alice"), ["b"]),
    (CallFilter(qa_below=61.0), ["c", "b"]),
    (CallFilter(flagged=True), ["b"]),
    (CallFilter(keyword="lawyer"), ["b"]),
    (CallFilter(keyword="100%"), ["b"]),        # LIKE wildcards in a keyword are plain characters
    (CallFilter(keyword="_balance_"), ["c"]),
    (CallFilter(keyword="%"), ["b"]),
    (CallFilter(synthetic=True), ["d"]),
    (CallFilter(synthetic=None), ["d", "c", "b", "a"]),
])
async def test_call_list_filters(records, where, expected):
    await call_list(records)
    assert [r.id for r in await records.find(where)] == expected


async def test_call_list_pages(records):
    await call_list(records)
    assert [r.id for r in await records.find(CallFilter(), limit=2)] == ["c", "b"]
    assert [r.id for r in await records.find(CallFilter(), limit=2, offset=2)] == ["a"]


async def test_window_streams_calls_started_in_it_in_order_across_pages(records, monkeypatch):
    monkeypatch.setattr(sql_base, "PAGE", 3)
    for i in range(10):  # two calls share each start time: the keyset must not skip or repeat any
        await records.start(CallRecord(f"w{i}", "pcm", 100.0 + i // 2, turns=[Turn(0, "caller", f"t{i}")]))
    await records.start(CallRecord("s", "pcm", 101.0, synthetic=True))
    got = [r async for r in records.window(100.0, 104.0)]
    assert [r.id for r in got] == [f"w{i}" for i in range(8)]
    assert [r.turns[0].text for r in got] == [f"t{i}" for i in range(8)]
    assert [r.id async for r in records.window(101.0, 102.0, synthetic=True)] == ["s"]


async def test_reviews_by_call_and_by_agent(records):
    await records.start(full_record("r-1"))
    first = Review("v1", "r-1", "sam", 10.0, 80.0, {"greeting": True, "verified_first": False}, "missed ID check",
                   "alice")
    second = Review("v2", "r-1", "sam", 20.0, 100.0, {"greeting": True}, "", "bob")
    await records.add_review(first)
    await records.add_review(second)
    assert await records.reviews(call_id="r-1") == [first, second]
    assert await records.reviews(agent_id="alice") == [first]
    assert await records.reviews(agent_id="carol") == []


def test_store_is_chosen_like_the_other_stores(tmp_path, monkeypatch):
    monkeypatch.delenv("HELPLINE_RECORDS_STORE", raising=False)
    assert records_store_url(None, None) is None
    assert records_store_url(None, "postgresql://db/helpline") == "postgresql://db/helpline"
    assert records_store_url("sqlite:///x.db", "postgresql://db/helpline") == "sqlite:///x.db"
    monkeypatch.setenv("HELPLINE_RECORDS_STORE", "postgresql://other/db")
    assert records_store_url("sqlite:///x.db", None) == "postgresql://other/db"
    default = create_records_store(None, tmp_path)
    assert isinstance(default, SqliteCallRecordStore) and default.path == tmp_path / "records.sqlite3"
    assert create_records_store(f"sqlite:///{tmp_path}/r.db", tmp_path).path == tmp_path / "r.db"
    assert isinstance(create_records_store("postgresql://u:pw@db/x", tmp_path), PostgresCallRecordStore)
    with pytest.raises(ValueError) as error:
        create_records_store("mysql://u:secret@db/x", tmp_path)
    assert "secret" not in str(error.value)


async def test_agent_days_sum_what_agents_handled_per_utc_day(records):
    day = 20_000 * 86400.0  # a UTC midnight
    calls = [  # (id, agent, start, answered, talk, wrap, qa)
        ("p1", "alice", day + 100, True, 60.0, 10.0, 80.0),
        ("p2", "alice", day + 86399, True, 120.0, None, 60.0),   # the last second of the same day
        ("p3", "alice", day + 86400, True, None, None, None),    # next day, still talking
        ("p4", "bob", day + 5000, True, 30.0, 5.0, None),
        ("p5", "bob", day + 6000, False, None, None, 40.0),      # never answered: not bob's
        ("p6", "alice", day - 1, True, 10.0, 0.0, 90.0),         # before the period
    ]
    for call_id, agent, start, answered, talk, wrap, qa in calls:
        answered_at = start + 10 if answered else None
        await records.start(CallRecord(call_id, "sip", start, agent_id=agent, answered_at=answered_at,
                                       agent_ended_at=answered_at + talk if talk is not None else None,
                                       wrap_up_seconds=wrap, qa_score=qa, queued_at=start))
    rows = [tuple(round(float(v), 1) if i > 1 else (int(v) if i == 1 else v) for i, v in enumerate(row))
            for row in await records.agent_days(day, day + 2 * 86400)]
    assert rows == [("alice", 20_000, 2.0, 180.0, 2.0, 190.0, 10.0, 1.0, 140.0, 2.0),
                    ("alice", 20_001, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
                    ("bob", 20_000, 1.0, 30.0, 1.0, 35.0, 5.0, 1.0, 0.0, 0.0)]


async def test_postgres_records_reconnect_when_the_server_drops_the_connection(tmp_path):
    """A PostgreSQL restart cuts the store's connection mid-call: the next turn is written on a new one."""
    needs.postgres()
    backend = RecordsBackend("postgres", tmp_path)
    store = backend.open()
    try:
        await store.start(CallRecord("c-cut", "twilio", 5.0))
        (pid,) = store._db.execute("SELECT pg_backend_pid()").fetchone()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        await store.add_turn("c-cut", Turn(at=1.0, speaker="caller", text="after the cut"))
        assert [t.text for t in (await store.get("c-cut")).turns] == ["after the cut"]
    finally:
        await store.close()
        backend.drop()
