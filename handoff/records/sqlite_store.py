"""Call records in one SQLite file (the default, beside the other stores in data_dir)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from handoff.records.sql_base import SqlCallRecordStore

BUSY_TIMEOUT_S = 10


class SqliteCallRecordStore(SqlCallRecordStore):
    """WAL, so the call list reads while calls write; ``BEGIN IMMEDIATE`` orders writers of other processes."""

    def __init__(self, path: Path, prefix: str = "call"):
        super().__init__(prefix)
        self.path = Path(path)

    def _connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a process crash loses no committed turn
        return db

    def _begin(self, db, key: str) -> None:
        db.execute("BEGIN IMMEDIATE")
