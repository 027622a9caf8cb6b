"""Every tracker store keeps a conversation's events exactly, in order, across turns and restarts.

PostgreSQL tests use a table of their own per run and drop it afterwards
(``HELPLINE_TEST_POSTGRES_DSN`` points them at another server). An unreachable
server skips them with its address, or fails them under HELPLINE_REQUIRE_SERVICES=1
(``.ci/run``: there a silently skipped store would be an untested one).
"""
import asyncio
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from bot.core.events import (
    ActionExecuted, ActiveLoop, BotUttered, Restarted, SessionStarted, SlotSet, UserUttered,
)
from bot.core.tracker_store import (
    InMemoryTrackerStore, PostgresTrackerStore, SQLiteTrackerStore, StoredEventError, TrackerStore,
    create_tracker_store,
)
from tests import needs
from tests.needs import POSTGRES_DSN

SECRET_PIN = "4729"


def conversation_turn_one():
    return [
        ActionExecuted(name="action_session_start", timestamp=1.0),
        SessionStarted(timestamp=1.5),
        ActionExecuted(name="action_listen", timestamp=2.0),
        UserUttered(text="my pin is four seven two nine", timestamp=3.0, input_channel="voice",
                    parse_data={"intent": {"name": "inform", "confidence": 0.93},
                                "entities": [{"entity": "pin", "value": SECRET_PIN, "start": 10, "end": 29}]},
                    metadata={"call_id": "c-1"}),
        SlotSet(name="pin", value=SECRET_PIN, timestamp=3.1),
        SlotSet(name="accounts", value=["checking", "savings"], timestamp=3.2),
        ActionExecuted(name="verify_form", policy="RulePolicy", confidence=1.0, timestamp=3.3),
        ActiveLoop(name="verify_form", timestamp=3.4),
    ]


def conversation_turn_two():
    return [
        BotUttered(text="Thanks, you're verified.", data={"buttons": []}, timestamp=4.0),
        ActiveLoop(name=None, timestamp=4.1),
        ActionExecuted(name="action_listen", timestamp=4.2),
        Restarted(timestamp=5.0),
    ]


class Backend:
    """Opens stores on one backing storage so a test can close and re-open it."""

    persistent = True

    def open(self) -> TrackerStore:
        raise NotImplementedError

    def corrupt(self, sender_id: str, seq: int, raw: str) -> None:
        """Overwrite one stored event behind the store's back."""
        raise NotImplementedError


class MemoryBackend(Backend):
    persistent = False

    def __init__(self):
        self.store = InMemoryTrackerStore()

    def open(self):
        return self.store

    def corrupt(self, sender_id, seq, raw):
        self.store._events[sender_id][seq] = raw


class SQLiteBackend(Backend):
    def __init__(self, path: Path):
        self.path = path

    def open(self):
        return SQLiteTrackerStore(self.path)

    def corrupt(self, sender_id, seq, raw):
        with sqlite3.connect(self.path) as connection:
            connection.execute("UPDATE events SET event = ? WHERE sender_id = ? AND seq = ?", (raw, sender_id, seq))


class PostgresBackend(Backend):
    def __init__(self, table: str):
        self.table = table

    def open(self):
        return PostgresTrackerStore(POSTGRES_DSN, table=self.table)

    def corrupt(self, sender_id, seq, raw):
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"UPDATE {self.table} SET event = %s::jsonb WHERE sender_id = %s AND seq = %s",
                               (raw, sender_id, seq))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request, tmp_path):
    if request.param == "memory":
        yield MemoryBackend()
    elif request.param == "sqlite":
        yield SQLiteBackend(tmp_path / "trackers.sqlite3")
    else:
        needs.postgres()
        table = f"test_tracker_events_{uuid.uuid4().hex[:12]}"
        yield PostgresBackend(table)
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.fixture
async def store(backend):
    store = backend.open()
    yield store
    await store.close()


async def test_round_trip_keeps_every_field(store):
    events = conversation_turn_one()
    await store.append("caller-1", events)
    assert await store.retrieve("caller-1") == events


async def test_turns_are_appended_in_order(store):
    await store.append("caller-1", conversation_turn_one())
    await store.append("caller-1", conversation_turn_two())
    assert await store.retrieve("caller-1") == conversation_turn_one() + conversation_turn_two()


async def test_conversations_are_kept_apart_and_listed(store):
    await store.append("caller-b", conversation_turn_two())
    await store.append("caller-a", conversation_turn_one())
    await store.append("caller-c", [])
    assert await store.keys() == ["caller-a", "caller-b"]
    assert await store.retrieve("caller-b") == conversation_turn_two()


async def test_unknown_conversation_is_none(store):
    assert await store.retrieve("nobody") is None
    assert await store.keys() == []


async def test_conversations_survive_reopening(backend):
    if not backend.persistent:
        pytest.skip("the in-memory store keeps nothing across instances")
    first = backend.open()
    await first.append("caller-1", conversation_turn_one())
    await first.close()
    second = backend.open()
    await second.append("caller-1", conversation_turn_two())
    assert await second.retrieve("caller-1") == conversation_turn_one() + conversation_turn_two()
    assert await second.keys() == ["caller-1"]
    await second.close()


async def test_concurrent_writers_never_share_a_sequence_number(backend):
    if not backend.persistent:
        pytest.skip("only persistent stores can have several writers")
    writers = [backend.open(), backend.open()]

    async def write(store, name):
        for i in range(10):
            await store.append("caller-1", [ActionExecuted(name=f"{name}_{i}", timestamp=float(i))])

    await asyncio.gather(*(write(store, f"w{n}") for n, store in enumerate(writers)))
    events = await writers[0].retrieve("caller-1")
    assert sorted(e.name for e in events) == sorted(f"w{n}_{i}" for n in range(2) for i in range(10))
    for store in writers:
        await store.close()


@pytest.mark.parametrize("raw", ['{"event": "no_such_event"}', '{"event": ["x"]}', '{"text": "%s"}' % SECRET_PIN])
async def test_unreadable_event_names_conversation_and_sequence_not_contents(backend, store, raw):
    await store.append("caller-1", conversation_turn_one())
    backend.corrupt("caller-1", 4, raw)
    with pytest.raises(StoredEventError) as caught:
        await store.retrieve("caller-1")
    assert "conversation 'caller-1': stored event #4" in str(caught.value)
    assert SECRET_PIN not in str(caught.value)


async def test_invalid_json_is_reported():
    store = InMemoryTrackerStore()
    await store.append("caller-1", conversation_turn_two())
    store._events["caller-1"][1] = "{not json"
    with pytest.raises(StoredEventError, match=r"stored event #1 cannot be read \(invalid JSON"):
        await store.retrieve("caller-1")


async def test_event_that_json_cannot_hold_is_refused_before_writing():
    store = InMemoryTrackerStore()
    with pytest.raises(ValueError, match="'slot' event cannot be stored as JSON"):
        await store.append("caller-1", [ActionExecuted(name="a"), SlotSet(name="pin", value={SECRET_PIN})])
    assert await store.retrieve("caller-1") is None


@pytest.mark.parametrize("url, kind, path", [
    (None, SQLiteTrackerStore, "DATA/trackers.sqlite3"),
    ("sqlite", SQLiteTrackerStore, "DATA/trackers.sqlite3"),
    ("sqlite:///relative/t.db", SQLiteTrackerStore, "relative/t.db"),
    ("sqlite:////abs/t.db", SQLiteTrackerStore, "/abs/t.db"),
    ("memory", InMemoryTrackerStore, None),
    ("postgresql://u:pw@db/helpline", PostgresTrackerStore, None),
])
def test_factory_picks_the_configured_store(url, kind, path):
    store = create_tracker_store(url, Path("DATA"))
    assert type(store) is kind
    if path is not None:
        assert store.path == Path(path)


def test_factory_rejects_unknown_urls_without_echoing_secrets():
    with pytest.raises(ValueError, match="unknown tracker store 'mysql'") as caught:
        create_tracker_store("mysql://user:hunter2@db/x", Path("DATA"))
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("kind", ["handoff", "call-record"])
def test_every_store_factory_reads_urls_alike_and_never_echoes_secrets(kind, tmp_path):
    from handoff.records import create_records_store
    from handoff.store import create_store
    factory = create_store if kind == "handoff" else create_records_store
    with pytest.raises(ValueError, match=f"unknown {kind} store 'mysql'") as caught:
        factory("mysql://user:hunter2@db/x", tmp_path)
    assert "hunter2" not in str(caught.value)


def test_postgres_table_name_must_be_plain():
    with pytest.raises(ValueError, match="not a plain SQL table name"):
        PostgresTrackerStore(POSTGRES_DSN, table="events; DROP TABLE x")


async def test_postgres_store_reconnects_when_the_server_drops_its_connection(tmp_path):
    """A PostgreSQL restart (or a proxy) cuts the store's connection between two turns: the next turn's
    read and write go through on a new connection instead of failing the call."""
    needs.postgres()
    backend = PostgresBackend(f"test_tracker_events_{uuid.uuid4().hex[:12]}")
    store = backend.open()
    try:
        await store.append("caller-1", conversation_turn_one())
        (pid,) = (await (await store._connection.execute("SELECT pg_backend_pid()")).fetchone())
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        assert await store.retrieve("caller-1") == conversation_turn_one()
        await store.append("caller-1", conversation_turn_two())
        assert await store.retrieve("caller-1") == conversation_turn_one() + conversation_turn_two()
        assert await store.keys() == ["caller-1"]
    finally:
        await store.close()
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {backend.table}")
