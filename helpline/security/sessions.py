"""Browser sessions: a random id in an HttpOnly cookie, the signed-in user and a CSRF token on the server.

Only a hash of the session id is stored, so a copy of the store cannot be replayed as cookies. Sessions
expire after ``ttl`` seconds whatever happens, and on sign-out. SQLite serves one server process;
Redis shares sessions between the processes of a site (the handoff store's Redis when it has one).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Session:
    user: str
    name: str
    roles: tuple[str, ...]
    csrf: str
    expires_at: float


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(ABC):
    def __init__(self, ttl: float):
        self.ttl = ttl

    async def create(self, user: str, name: str, roles) -> tuple[str, Session]:
        """A new session id (for the cookie) and its session."""
        session_id = secrets.token_urlsafe(32)
        session = Session(user, name, tuple(sorted(roles)), secrets.token_urlsafe(24), time.time() + self.ttl)
        await self._put(_key(session_id), session)
        return session_id, session

    async def get(self, session_id: str) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        session = await self._get(_key(session_id))
        return session if session is not None and session.expires_at > time.time() else None

    async def delete(self, session_id: str) -> None:
        await self._delete(_key(session_id))

    @abstractmethod
    async def _put(self, key: str, session: Session) -> None: ...

    @abstractmethod
    async def _get(self, key: str) -> Session | None: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    async def close(self) -> None:
        return None


class SqliteSessionStore(SessionStore):
    def __init__(self, path: Path, ttl: float):
        super().__init__(ttl)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, data TEXT, expires_at REAL)")

    def _run(self, sql: str, *args):
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    async def _put(self, key: str, session: Session) -> None:
        await asyncio.to_thread(self._run, "DELETE FROM sessions WHERE expires_at < ?", time.time())
        await asyncio.to_thread(self._run, "INSERT INTO sessions VALUES (?, ?, ?)", key,
                                json.dumps(asdict(session)), session.expires_at)

    async def _get(self, key: str) -> Session | None:
        row = await asyncio.to_thread(self._run, "SELECT data FROM sessions WHERE key = ?", key)
        return _session(row[0]) if row else None

    async def _delete(self, key: str) -> None:
        await asyncio.to_thread(self._run, "DELETE FROM sessions WHERE key = ?", key)

    async def close(self) -> None:
        self._db.close()


class RedisSessionStore(SessionStore):
    def __init__(self, url: str, ttl: float, prefix: str = "helpline:session"):
        from bot.redis_client import connect

        super().__init__(ttl)
        self.redis = connect(url, decode_responses=True)
        self.prefix = prefix

    async def _put(self, key: str, session: Session) -> None:
        await self.redis.set(f"{self.prefix}:{key}", json.dumps(asdict(session)), ex=int(self.ttl) + 1)

    async def _get(self, key: str) -> Session | None:
        raw = await self.redis.get(f"{self.prefix}:{key}")
        return _session(raw) if raw else None

    async def _delete(self, key: str) -> None:
        await self.redis.delete(f"{self.prefix}:{key}")

    async def close(self) -> None:
        await self.redis.aclose()


def _session(raw: str) -> Session:
    data = json.loads(raw)
    return Session(data["user"], data["name"], tuple(data["roles"]), data["csrf"], float(data["expires_at"]))


def create_session_store(url: str | None, data_dir: Path, ttl: float) -> SessionStore:
    """Redis when the site shares its handoff state there, else SQLite beside the other stores."""
    if url and url.startswith("redis://"):
        return RedisSessionStore(url, ttl)
    return SqliteSessionStore(data_dir / "sessions.sqlite3", ttl)
