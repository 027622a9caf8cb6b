"""Store URLs, read one way for every store (trackers, call records, the ACD).

``sqlite`` (or nothing) is the store's default file in the data folder; ``sqlite:///PATH`` is
SQLAlchemy's spelling (four slashes for an absolute path); anything else is a server's URL. An
unknown URL is named by its scheme only, never the rest: a URL may hold a password.
"""
from __future__ import annotations

from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(url: str | None, data_dir: Path, default_file: str) -> Path | None:
    """The SQLite file ``url`` names, or None when it names another kind of store."""
    if url in (None, "", "sqlite"):
        return Path(data_dir) / default_file
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        return Path(url[len(SQLITE_PREFIX):])
    return None


def unknown_store(kind: str, url: str, choices: str) -> ValueError:
    scheme = url.split("://", 1)[0] if "://" in url else url
    return ValueError(f"unknown {kind} store '{scheme}': use {choices}")
