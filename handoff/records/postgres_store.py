"""Call records in PostgreSQL, shared by every server process of a site.

psycopg (already the tracker store's driver) is used synchronously in the store's worker thread;
a transaction-scoped advisory lock per call id orders two processes writing turns of one call, and
one on the schema keeps processes that start together from racing on ``CREATE TABLE IF NOT EXISTS``.
A connection found broken (the server restarted, a proxy cut it) is replaced and the work tried
once more: every write is one transaction, so one cut before its commit left nothing to repeat.
"""
from __future__ import annotations

import re

import psycopg

from handoff.records.sql_base import SqlCallRecordStore

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


class PostgresCallRecordStore(SqlCallRecordStore):
    placeholder = "%s"
    real = "DOUBLE PRECISION"
    lock_row = " FOR UPDATE"
    day = "FLOOR(started_at / 86400)"
    json_true = "'true'"

    def __init__(self, dsn: str, prefix: str = "call"):
        if not _IDENTIFIER.match(prefix):
            raise ValueError(f"'{prefix}' is not a plain SQL table prefix")
        super().__init__(prefix)
        self._dsn = dsn

    def json_field(self, document: str, key: str) -> str:
        return f"({document}::json ->> '{key}')"

    def _connect(self):
        return psycopg.connect(self._dsn, autocommit=True)

    def _open(self):
        if self._db is not None and self._db.closed:
            self._db = None
        return super()._open()

    def _connection_lost(self, error: Exception) -> bool:
        return isinstance(error, psycopg.OperationalError) and self._db is not None and bool(self._db.closed)

    def _begin(self, db, key: str) -> None:
        db.execute("BEGIN")
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{self.records}:{key}",))
