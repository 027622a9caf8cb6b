"""Where the ACD keeps calls, agents, call records and callbacks: SQLite on one node, Redis across processes."""
from __future__ import annotations

from pathlib import Path

from bot.store_url import sqlite_path, unknown_store
from handoff.store.base import ACDStore


def create_store(url: str | None, data_dir: Path) -> ACDStore:
    """``sqlite`` (default, in data_dir), ``sqlite:///path``, or ``redis://host:port/db``."""
    if url and url.startswith("redis://"):
        from handoff.store.redis_store import RedisStore
        return RedisStore(url)
    path = sqlite_path(url, data_dir, "handoff.sqlite3")
    if path is None:
        raise unknown_store("handoff", url, "sqlite, sqlite:///PATH or redis://HOST:PORT/DB")
    from handoff.store.sqlite_store import SqliteStore
    return SqliteStore(path)
