"""ACD state in one SQLite file: survives restarts; several processes on one host serialize on its write lock."""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from handoff.model import FINAL_STATES, Agent, QueuedCall, agent_from_dict, call_from_dict, to_dict
from handoff.store.base import Change, LocalBus

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agents (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, at REAL NOT NULL,
                                    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_kind_at ON records (kind, at);
"""


class SqliteStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Built by the app's composition root, used by the event loop that serves it, which may run in
        # another thread; only that loop touches the connection afterwards.
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._bus = LocalBus()
        self.publish = self._bus.publish
        self.subscribe = self._bus.subscribe

    async def save_call(self, call: QueuedCall) -> None:
        self._db.execute("INSERT OR REPLACE INTO calls VALUES (?, ?)", (call.id, json.dumps(to_dict(call))))

    async def get_call(self, call_id: str) -> QueuedCall | None:
        row = self._db.execute("SELECT data FROM calls WHERE id = ?", (call_id,)).fetchone()
        return call_from_dict(json.loads(row[0])) if row else None

    async def calls(self) -> list[QueuedCall]:
        return [call_from_dict(json.loads(r[0])) for r in self._db.execute("SELECT data FROM calls")]

    async def save_agent(self, agent: Agent) -> None:
        self._db.execute("INSERT OR REPLACE INTO agents VALUES (?, ?)", (agent.id, json.dumps(to_dict(agent))))

    async def get_agent(self, agent_id: str) -> Agent | None:
        row = self._db.execute("SELECT data FROM agents WHERE id = ?", (agent_id,)).fetchone()
        return agent_from_dict(json.loads(row[0])) if row else None

    async def agents(self) -> list[Agent]:
        return [agent_from_dict(json.loads(r[0])) for r in self._db.execute("SELECT data FROM agents")]

    async def update(self, call_id: str | None, agent_id: str | None, change: Change) -> bool:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            call = await self.get_call(call_id) if call_id else None
            agent = await self.get_agent(agent_id) if agent_id else None
            if not change(call, agent):
                db.execute("ROLLBACK")
                return False
            if call is not None:
                if call.state in FINAL_STATES:
                    db.execute("DELETE FROM calls WHERE id = ?", (call.id,))
                    self._insert_record("call", to_dict(call))
                else:
                    await self.save_call(call)
            if agent is not None:
                await self.save_agent(agent)
            db.execute("COMMIT")
            return True
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def get_meta(self, key: str):
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    async def set_meta(self, key: str, value) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    async def add_record(self, kind: str, data: dict) -> None:
        self._insert_record(kind, data)

    def _insert_record(self, kind: str, data: dict) -> None:
        self._db.execute("INSERT INTO records (kind, at, data) VALUES (?, ?, ?)",
                         (kind, data.get("ended_at") or data.get("at") or time.time(), json.dumps(data)))

    async def records(self, kind: str, since: float = 0.0) -> list[dict]:
        rows = self._db.execute("SELECT data FROM records WHERE kind = ? AND at >= ? ORDER BY seq", (kind, since))
        return [json.loads(r[0]) for r in rows]

    async def close(self) -> None:
        self._db.close()
