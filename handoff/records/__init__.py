"""Call records: one per call, the history supervisors read."""
from __future__ import annotations

import os
from pathlib import Path

from bot.store_url import sqlite_path, unknown_store
from handoff.records.base import CallRecordStore

DEFAULT_FILE = "records.sqlite3"


def records_store_url(configured: str | None, tracker_store: str | None) -> str | None:
    """HELPLINE_RECORDS_STORE, else ``handoff: records: store:``, else the tracker store's PostgreSQL
    (same database, tables of their own) when it is one, else None (SQLite in data_dir)."""
    url = os.environ.get("HELPLINE_RECORDS_STORE") or configured
    if url:
        return url
    if tracker_store and tracker_store.startswith(("postgresql://", "postgres://")):
        return tracker_store
    return None


def create_records_store(url: str | None, data_dir: Path) -> CallRecordStore:
    """``None``/``sqlite``: data_dir/records.sqlite3; ``sqlite:///PATH``; ``postgresql://...``."""
    path = sqlite_path(url, data_dir, DEFAULT_FILE)
    if path is not None:
        from handoff.records.sqlite_store import SqliteCallRecordStore
        return SqliteCallRecordStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from handoff.records.postgres_store import PostgresCallRecordStore
        return PostgresCallRecordStore(url)
    raise unknown_store("call-record", url, "sqlite, sqlite:///PATH or postgresql://...")
