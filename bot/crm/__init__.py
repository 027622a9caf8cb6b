"""Which customer directory (CRM) the bot talks to: a tiny registry for the composition root.

Actions call ``current()``; the app decides what that is with ``configure()``
(e.g. an ``HttpDirectory`` pointed at the real CRM). Without that, the first
``current()`` falls back to the seeded demo SQLite file at
``$HELPLINE_DATA_DIR/crm.sqlite3`` (default directory ``.helpline``).
"""
from __future__ import annotations

import os
from pathlib import Path

from bot.crm.directory import (
    Account,
    Customer,
    CustomerDirectory,
    DirectoryError,
    DirectoryUnavailable,
    Order,
    OrderStatus,
    normalize_phone,
)
from bot.crm.sqlite_directory import SqliteDirectory

__all__ = [
    "Account", "Customer", "CustomerDirectory", "DirectoryError", "DirectoryUnavailable", "Order",
    "OrderStatus", "normalize_phone", "configure", "current", "default_directory",
]

_directory: CustomerDirectory | None = None


def configure(directory: CustomerDirectory | None) -> None:
    """Make ``directory`` the one actions use; None goes back to the default on next use."""
    global _directory
    _directory = directory


def current() -> CustomerDirectory:
    """The configured directory, creating the default one on first use."""
    global _directory
    if _directory is None:
        _directory = default_directory()
    return _directory


def default_directory() -> SqliteDirectory:
    """The demo CRM in the Helpline data directory; it is created and seeded on first query."""
    data_dir = Path(os.environ.get("HELPLINE_DATA_DIR", ".helpline"))
    return SqliteDirectory(data_dir / "crm.sqlite3")
