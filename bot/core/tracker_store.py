"""Where conversations live between turns: each one is its list of Rasa events.

Storing events rather than tracker snapshots keeps the store dumb and the
history complete: the tracker is rebuilt by replaying them, and the rows are
exactly Rasa's JSON (``Event.to_dict()``), so exports and the HTTP API need no
conversion. Stores are append-only because the processor hands over only the
new events of each turn.

Events can hold what callers said, PINs included: nothing here logs event
contents, and errors about stored events name the conversation and the
sequence number, never the data.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path

import psycopg

from bot.core.events import Event, EventFormatError, event_from_dict
from bot.store_url import sqlite_path, unknown_store

logger = logging.getLogger(__name__)

DEFAULT_SQLITE_FILE = "trackers.sqlite3"
DEFAULT_POSTGRES_TABLE = "tracker_events"
SQLITE_BUSY_TIMEOUT_MS = 10_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Held until the transaction ends; serializes writers of one key across processes.
_POSTGRES_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


class StoredEventError(ValueError):
    """A stored event that cannot be turned back into an event; the conversation is not usable as stored."""


def encode_event(sender_id: str, event: Event) -> str:
    """Rasa JSON for one event; an event that JSON cannot hold is refused before anything is written."""
    try:
        return json.dumps(event.to_dict(), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"conversation '{sender_id}': a '{event.type_name}' event cannot be stored as JSON "
                         f"({type(error).__name__})") from None


def decode_event(sender_id: str, seq: int, raw: str) -> Event:
    """Parse one stored event, failing loudly: silently dropping one would change the conversation's state."""
    try:
        data = json.loads(raw)
        return event_from_dict(data)
    except json.JSONDecodeError as error:
        reason = f"invalid JSON at position {error.pos}"
    except (EventFormatError, TypeError):  # TypeError: event_from_dict on an unhashable "event" value
        # The original message may quote the event: keep the contents out of ours.
        kind = data.get("event") if isinstance(data, dict) else None
        reason = f"not a valid '{kind}' event" if isinstance(kind, str) else "not a Rasa event"
    raise StoredEventError(f"conversation '{sender_id}': stored event #{seq} cannot be read ({reason})")


def decode_events(sender_id: str, rows: list[tuple[int, str]]) -> list[Event] | None:
    """Rows of (sequence number, JSON) in order; no rows means no such conversation."""
    if not rows:
        return None
    return [decode_event(sender_id, seq, raw) for seq, raw in rows]


class TrackerStore(ABC):
    """Persists each conversation's events; implementations must keep them in append order."""

    @abstractmethod
    async def retrieve(self, sender_id: str) -> list[Event] | None:
        """All events of a conversation, or None if it has none."""

    @abstractmethod
    async def append(self, sender_id: str, events: list[Event]) -> None:
        """Add the new events of a turn after those already stored."""

    @abstractmethod
    async def keys(self) -> list[str]:
        """Sender ids of all stored conversations, sorted."""

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""


class InMemoryTrackerStore(TrackerStore):
    """For tests and demos; holds the same JSON as the persistent stores so it behaves identically."""

    def __init__(self) -> None:
        self._events: dict[str, list[str]] = {}

    async def retrieve(self, sender_id: str) -> list[Event] | None:
        return decode_events(sender_id, list(enumerate(self._events.get(sender_id, []))))

    async def append(self, sender_id: str, events: list[Event]) -> None:
        if events:
            encoded = [encode_event(sender_id, event) for event in events]
            self._events.setdefault(sender_id, []).extend(encoded)

    async def keys(self) -> list[str]:
        return sorted(self._events)


def _switch_to_wal(connection: sqlite3.Connection) -> None:
    """Turn on WAL, waiting out another process doing the same.

    Changing the journal mode needs the database to itself, and SQLite reports
    "database is locked" at once instead of using the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SQLiteTrackerStore(TrackerStore):
    """A single file, the default for one machine.

    WAL lets readers go on while a turn is written; ``BEGIN IMMEDIATE`` makes
    picking the next sequence number and inserting one step even with several
    processes on the same file. sqlite3 blocks, so every call runs in a thread.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        """Open the file and create the schema on first use (callers hold the lock)."""
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                         timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            _switch_to_wal(connection)
            connection.execute(
                "CREATE TABLE IF NOT EXISTS events ("
                " sender_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,"
                " created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
                " PRIMARY KEY (sender_id, seq))"
            )
            self._connection = connection
        return self._connection

    def _rows(self, sender_id: str) -> list[tuple[int, str]]:
        with self._lock:
            cursor = self._connect().execute(
                "SELECT seq, event FROM events WHERE sender_id = ? ORDER BY seq", (sender_id,))
            return cursor.fetchall()

    def _insert(self, sender_id: str, encoded: list[str]) -> None:
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                (start,) = connection.execute(
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM events WHERE sender_id = ?", (sender_id,)).fetchone()
                connection.executemany("INSERT INTO events (sender_id, seq, event) VALUES (?, ?, ?)",
                                       [(sender_id, start + i, raw) for i, raw in enumerate(encoded)])
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _keys(self) -> list[str]:
        with self._lock:
            cursor = self._connect().execute("SELECT DISTINCT sender_id FROM events ORDER BY sender_id")
            return [sender_id for (sender_id,) in cursor.fetchall()]

    def _close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    async def retrieve(self, sender_id: str) -> list[Event] | None:
        return decode_events(sender_id, await asyncio.to_thread(self._rows, sender_id))

    async def append(self, sender_id: str, events: list[Event]) -> None:
        if events:
            encoded = [encode_event(sender_id, event) for event in events]
            await asyncio.to_thread(self._insert, sender_id, encoded)

    async def keys(self) -> list[str]:
        return await asyncio.to_thread(self._keys)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)


class PostgresTrackerStore(TrackerStore):
    """For several bot processes sharing conversations.

    One connection, used by one coroutine at a time (psycopg_pool is not a
    dependency). A connection found broken (PostgreSQL restarted, a proxy or
    failover cut it) is replaced and the read or write tried once more, so a
    call in progress does not fail on it; a write cut before its commit left
    nothing behind, so trying it again adds nothing twice. The primary
    key (sender_id, seq) is the index that per-conversation reads use.
    Transaction-scoped advisory locks keep processes that start together from
    racing on ``CREATE TABLE IF NOT EXISTS`` (not atomic in PostgreSQL) and two
    writers of one conversation from taking the same sequence number.
    """

    def __init__(self, dsn: str, table: str = DEFAULT_POSTGRES_TABLE):
        if not _IDENTIFIER.match(table):
            raise ValueError(f"'{table}' is not a plain SQL table name")
        self._dsn = dsn
        self._table = table
        self._connection: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> psycopg.AsyncConnection:
        """Connect and create the schema on first use or after the connection broke (callers hold the lock)."""
        if self._connection is None or self._connection.closed:
            connection = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
            async with connection.transaction():
                await connection.execute(_POSTGRES_LOCK, (f"{self._table}:schema",))
                await connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table} ("
                    " sender_id TEXT NOT NULL, seq INTEGER NOT NULL, event JSONB NOT NULL,"
                    " created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
                    " PRIMARY KEY (sender_id, seq))"
                )
            self._connection = connection
        return self._connection

    async def _run(self, work):
        """``work(connection)`` under the lock, once more on a new connection if the old one broke."""
        async with self._lock:
            connection = await self._connect()
            try:
                return await work(connection)
            except psycopg.OperationalError as error:
                if not connection.closed:
                    raise
                logger.warning("PostgreSQL connection lost; reconnecting", extra={"error": str(error).strip()})
            return await work(await self._connect())

    async def retrieve(self, sender_id: str) -> list[Event] | None:
        async def read(connection):
            cursor = await connection.execute(
                f"SELECT seq, event::text FROM {self._table} WHERE sender_id = %s ORDER BY seq", (sender_id,))
            return decode_events(sender_id, await cursor.fetchall())

        return await self._run(read)

    async def append(self, sender_id: str, events: list[Event]) -> None:
        if not events:
            return
        encoded = [encode_event(sender_id, event) for event in events]

        async def write(connection):
            async with connection.transaction():
                await connection.execute(_POSTGRES_LOCK, (f"{self._table}:conversation:{sender_id}",))
                cursor = await connection.execute(
                    f"SELECT COALESCE(MAX(seq), -1) + 1 FROM {self._table} WHERE sender_id = %s", (sender_id,))
                (start,) = await cursor.fetchone()
                async with connection.cursor() as insert:
                    await insert.executemany(
                        f"INSERT INTO {self._table} (sender_id, seq, event) VALUES (%s, %s, %s::jsonb)",
                        [(sender_id, start + i, raw) for i, raw in enumerate(encoded)])

        await self._run(write)

    async def keys(self) -> list[str]:
        async def read(connection):
            cursor = await connection.execute(f"SELECT DISTINCT sender_id FROM {self._table} ORDER BY sender_id")
            return [sender_id for (sender_id,) in await cursor.fetchall()]

        return await self._run(read)

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None


def create_tracker_store(url: str | None, data_dir: Path) -> TrackerStore:
    """The store a configuration names.

    ``None`` or ``sqlite``: ``data_dir/trackers.sqlite3``; ``sqlite:///relative/path`` or
    ``sqlite:////absolute/path`` (SQLAlchemy's spelling); ``postgresql://...``; ``memory``.
    """
    if url == "memory":
        return InMemoryTrackerStore()
    path = sqlite_path(url, data_dir, DEFAULT_SQLITE_FILE)
    if path is not None:
        return SQLiteTrackerStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresTrackerStore(url)
    raise unknown_store("tracker", url, "sqlite, sqlite:///path, postgresql://... or memory")
