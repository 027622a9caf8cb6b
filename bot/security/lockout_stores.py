"""Where verification failures and lockouts live: SQLite for one server, Redis for a site of several.

Either is shared by every process that opens it, so a caller who moves from the phone to the web
chat, or whose second call lands on another gateway process, meets the same count.
"""
from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

from bot.security.lockout import AttemptStore, Lockout

SQLITE_FILE = "verification.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (customer_id TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_by_customer ON failures (customer_id, at);
CREATE TABLE IF NOT EXISTS lockouts (customer_id TEXT PRIMARY KEY, until REAL NOT NULL, failures INTEGER NOT NULL,
                                     conversation_id TEXT NOT NULL);
"""


class SqliteAttemptStore(AttemptStore):
    """One short connection per check: checks are rare, and a store nobody holds open has nothing to leak."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, timeout=10)

    def _transaction(self, statements: list[tuple[str, tuple]]) -> list:
        """Run statements in one write transaction (other processes wait); the rows of each."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = [db.execute(sql, args).fetchall() for sql, args in statements]
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return rows

    async def add_failure(self, customer_id: str, at: float, window: float) -> int:
        rows = await asyncio.to_thread(self._transaction, [
            ("DELETE FROM failures WHERE at <= ?", (at - window,)),
            ("INSERT INTO failures VALUES (?, ?)", (customer_id, at)),
            ("SELECT COUNT(*) FROM failures WHERE customer_id = ?", (customer_id,)),
        ])
        return int(rows[-1][0][0])

    async def lock(self, lockout: Lockout) -> None:
        await asyncio.to_thread(self._transaction, [
            ("INSERT OR REPLACE INTO lockouts VALUES (?, ?, ?, ?)",
             (lockout.customer_id, lockout.until, lockout.failures, lockout.conversation_id)),
        ])

    async def lockout(self, customer_id: str, now: float) -> Lockout | None:
        rows = await asyncio.to_thread(self._transaction, [
            ("SELECT customer_id, until, failures, conversation_id FROM lockouts WHERE customer_id = ? AND until > ?",
             (customer_id, now)),
        ])
        return Lockout(*rows[0][0]) if rows[0] else None

    async def lockouts(self, now: float) -> list[Lockout]:
        rows = await asyncio.to_thread(self._transaction, [
            ("DELETE FROM lockouts WHERE until <= ?", (now,)),
            ("SELECT customer_id, until, failures, conversation_id FROM lockouts ORDER BY until", ()),
        ])
        return [Lockout(*row) for row in rows[-1]]

    async def clear_failures(self, customer_id: str) -> None:
        await asyncio.to_thread(self._transaction, [("DELETE FROM failures WHERE customer_id = ?", (customer_id,))])


class RedisAttemptStore(AttemptStore):
    """Failures in one sorted set per customer (scored by time), lockouts as expiring keys plus an index."""

    def __init__(self, url: str, prefix: str = "helpline:verification"):
        from bot.redis_client import connect

        self.redis = connect(url, decode_responses=True)
        self.prefix = prefix

    def _failures(self, customer_id: str) -> str:
        return f"{self.prefix}:failures:{customer_id}"

    def _lockout(self, customer_id: str) -> str:
        return f"{self.prefix}:lockout:{customer_id}"

    @property
    def _index(self) -> str:
        return f"{self.prefix}:lockouts"

    async def add_failure(self, customer_id: str, at: float, window: float) -> int:
        key = self._failures(customer_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", at - window)
            pipe.zadd(key, {uuid.uuid4().hex: at})
            pipe.zcard(key)
            pipe.expire(key, math.ceil(window) + 1)
            results = await pipe.execute()
        return int(results[2])

    async def lock(self, lockout: Lockout) -> None:
        ttl = max(1, math.ceil(lockout.until - time.time()))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._lockout(lockout.customer_id), json.dumps(asdict(lockout)), ex=ttl)
            pipe.zadd(self._index, {lockout.customer_id: lockout.until})
            await pipe.execute()

    async def lockout(self, customer_id: str, now: float) -> Lockout | None:
        raw = await self.redis.get(self._lockout(customer_id))
        lockout = Lockout(**json.loads(raw)) if raw else None
        return lockout if lockout is not None and lockout.until > now else None

    async def lockouts(self, now: float) -> list[Lockout]:
        await self.redis.zremrangebyscore(self._index, "-inf", now)
        customers = await self.redis.zrange(self._index, 0, -1)
        found = [await self.lockout(customer, now) for customer in customers]
        return [lockout for lockout in found if lockout is not None]

    async def clear_failures(self, customer_id: str) -> None:
        await self.redis.delete(self._failures(customer_id))

    async def close(self) -> None:
        await self.redis.aclose()


def create_attempt_store(url: str | None, data_dir: Path) -> AttemptStore:
    """Redis when the site shares its handoff state there, else SQLite beside the other stores."""
    if url and url.startswith("redis://"):
        return RedisAttemptStore(url)
    return SqliteAttemptStore(data_dir / SQLITE_FILE)
