"""Call-record stores for tests: the same fixture opens real SQLite and real PostgreSQL.

PostgreSQL stores get tables of their own per test (a unique prefix), dropped afterwards;
an unreachable server skips them naming its address (fails under HELPLINE_REQUIRE_SERVICES=1).
"""
from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from handoff.records.postgres_store import PostgresCallRecordStore
from handoff.records.sqlite_store import SqliteCallRecordStore
from tests import needs
from tests.needs import POSTGRES_DSN


class RecordsBackend:
    """Opens stores on one database so a test can open a second store (another process's view) or reopen."""

    def __init__(self, kind: str, tmp_path: Path):
        self.kind = kind
        self.path = tmp_path / "records.sqlite3"
        self.prefix = f"t{uuid.uuid4().hex[:12]}"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}" if self.kind == "sqlite" else POSTGRES_DSN

    def open(self):
        if self.kind == "sqlite":
            return SqliteCallRecordStore(self.path)
        return PostgresCallRecordStore(POSTGRES_DSN, prefix=self.prefix)

    def drop(self) -> None:
        if self.kind == "postgres":
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as db:
                for table in ("records", "turns", "reviews"):
                    db.execute(f"DROP TABLE IF EXISTS {self.prefix}_{table}")


@pytest.fixture(params=["sqlite", "postgres"])
def records_backend(request, tmp_path):
    if request.param == "postgres":
        needs.postgres()
    backend = RecordsBackend(request.param, tmp_path)
    yield backend
    backend.drop()


@pytest.fixture
async def records(records_backend):
    store = records_backend.open()
    yield store
    await store.close()
