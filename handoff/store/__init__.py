"""Where the ACD keeps calls, agents, call records and callbacks: SQLite on one node, Redis across processes."""
from __future__ import annotations

from pathlib import Path

from handoff.store.base import ACDStore


def create_store(url: str | None, data_dir: Path) -> ACDStore:
    """``sqlite`` (default, in data_dir), ``sqlite:///path``, or ``redis://host:port/db``."""
    if url and url.startswith("redis://"):
        from handoff.store.redis_store import RedisStore
        return RedisStore(url)
    from handoff.store.sqlite_store import SqliteStore
    if url and url.startswith("sqlite:///"):
        return SqliteStore(Path(url[len("sqlite:///"):]))
    if url not in (None, "", "sqlite"):
        raise ValueError(f"unknown handoff store {url!r}: use sqlite, sqlite:///PATH or redis://HOST:PORT/DB")
    return SqliteStore(data_dir / "handoff.sqlite3")
