"""The call-record store over any DB-API connection; SQLite and PostgreSQL differ only in the hooks below.

Both drivers are used synchronously in a worker thread (``asyncio.to_thread``), one statement
group at a time under a lock, so the voice loop never waits on the disk and the two stores run
the same code. Every write is its own transaction: a turn is on disk once ``add_turn`` returns.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import AsyncIterator, Callable

from handoff.records.base import CallFilter, WindowTotals
from handoff.records.model import IN_PROGRESS, CallRecord, Review, Turn, turn_counts
from handoff.records import sql

PAGE = 500  # records per round trip when a window is streamed
logger = logging.getLogger(__name__)


class SqlCallRecordStore:
    """Subclasses give ``_connect`` and the dialect's details; tables are ``{prefix}_records|_turns|_reviews``."""

    placeholder = "?"
    real = "REAL"
    lock_row = ""              # PostgreSQL: " FOR UPDATE"
    day = "CAST(started_at / 86400 AS INTEGER)"  # whole UTC days since 1970 (PostgreSQL's CAST rounds)
    json_true = "1"            # what ``json_field`` gives for JSON true (PostgreSQL: 'true')
    _count_increments = ", ".join(f"{c} = {c} + ?" for c in sql.TURN_COUNTS)  # a turn's ``turn_counts``

    def __init__(self, prefix: str = "call"):
        self.records, self.turns, self.reviews_table = f"{prefix}_records", f"{prefix}_turns", f"{prefix}_reviews"
        self._db = None
        self._lock = threading.Lock()

    # -- dialect hooks -------------------------------------------------------------------------
    def _connect(self):
        raise NotImplementedError

    def _begin(self, db, key: str) -> None:
        """Start a write transaction that serializes writers of ``key`` (a call id)."""
        db.execute("BEGIN")

    def _sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def json_field(self, document: str, key: str) -> str:
        """SQL for the member ``key`` of the JSON text ``document`` (a column or expression)."""
        return f"json_extract({document}, '$.{key}')"

    # -- plumbing ------------------------------------------------------------------------------
    def _open(self):
        if self._db is None:
            db = self._connect()
            self._begin(db, "schema")
            try:
                for statement in sql.schema(self.records, self.turns, self.reviews_table, self.real):
                    db.execute(statement)
                self._migrate(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self._db = db
        return self._db

    def _migrate(self, db) -> None:
        """Bring a table made by an older version up to date (inside the schema transaction)."""
        present = {d[0] for d in db.execute(f"SELECT * FROM {self.records} LIMIT 0").description}
        statements = sql.count_columns_added(self.records, self.turns, present, self.json_field, self.json_true)
        if statements:
            logger.info("adding per-call turn counts to the call records (once; counts every stored turn)",
                        extra={"table": self.records})
            for statement in statements:
                db.execute(statement)

    def _connection_lost(self, error: Exception) -> bool:
        """Whether ``error`` means the connection broke (the server restarted): the work is tried again."""
        return False

    def _locked(self, work: Callable, *args):
        with self._lock:
            try:
                return work(self._open(), *args)
            except Exception as error:
                if not self._connection_lost(error):
                    raise
                logger.warning("call-record database connection lost; reconnecting",
                               extra={"table": self.records, "error": str(error).strip()})
                self._db = None
            return work(self._open(), *args)

    async def _call(self, work: Callable, *args):
        return await asyncio.to_thread(self._locked, work, *args)

    def _fetch(self, db, text: str, params=()) -> list[tuple]:
        return db.execute(self._sql(text), params).fetchall()

    def _write(self, db, key: str, work: Callable) -> None:
        self._begin(db, key)
        try:
            work()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- the interface -------------------------------------------------------------------------
    async def start(self, record: CallRecord) -> None:
        row = sql.record_row(record)
        marks = ", ".join("?" * len(row))
        names = ", ".join((*sql.COLUMNS, "flagged", "data"))

        def work(db):
            self._write(db, record.id, lambda: db.execute(self._sql(
                f"INSERT INTO {self.records} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING"), row))
            for turn in record.turns:
                self._insert_turn(db, record.id, turn)

        await self._call(work)

    def _insert_turn(self, db, call_id: str, turn: Turn) -> None:
        def insert():
            (seq,) = db.execute(self._sql(f"SELECT COALESCE(MAX(seq), -1) + 1 FROM {self.turns} WHERE call_id = ?"),
                                (call_id,)).fetchone()
            db.execute(self._sql(f"INSERT INTO {self.turns} (call_id, seq, at, speaker, text, intent, data) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)"), sql.turn_row(call_id, seq, turn))
            counts = turn_counts([turn])
            if any(counts):
                db.execute(self._sql(f"UPDATE {self.records} SET {self._count_increments} WHERE id = ?"),
                           (*counts, call_id))
        self._write(db, call_id, insert)

    async def import_records(self, records: list[CallRecord]) -> None:
        """Write finished records whole, turns and all, in one transaction: many calls at a time (the demo
        data, benchmarks), where ``start`` commits every turn on its own as a live call must. Records
        already stored are left as they are."""
        if not records:
            return
        names = ", ".join((*sql.COLUMNS, "flagged", "data", *sql.TURN_COUNTS))
        marks = ", ".join("?" * (len(sql.COLUMNS) + 2 + len(sql.TURN_COUNTS)))
        insert_record = self._sql(f"INSERT INTO {self.records} ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING")
        insert_turn = self._sql(f"INSERT INTO {self.turns} (call_id, seq, at, speaker, text, intent, data) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")

        def work(db):
            def write():
                cursor = db.cursor()
                cursor.executemany(insert_record, [sql.imported_row(r) for r in records])
                cursor.executemany(insert_turn, [sql.turn_row(r.id, seq, t)
                                                 for r in records for seq, t in enumerate(r.turns)])
            self._write(db, "import", write)

        await self._call(work)

    async def add_turn(self, call_id: str, turn: Turn) -> None:
        await self._call(self._insert_turn, call_id, turn)

    async def update(self, call_id: str, **fields) -> None:
        def work(db):
            def change():
                rows = self._fetch(db, sql.SELECT_RECORD.format(records=self.records) + " WHERE id = ?"
                                   + self.lock_row, (call_id,))
                if not rows:
                    raise KeyError(f"no call record {call_id!r}")
                record = sql.merged(sql.record_from_row(rows[0], []), fields)
                row = sql.record_row(record)
                names = ", ".join(f"{n} = ?" for n in (*sql.COLUMNS[1:], "flagged", "data"))
                db.execute(self._sql(f"UPDATE {self.records} SET {names} WHERE id = ?"), (*row[1:], call_id))
            self._write(db, call_id, change)

        await self._call(work)

    def _with_turns(self, db, rows: list[tuple]) -> list[CallRecord]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        turns: dict[str, list[Turn]] = {i: [] for i in ids}
        marks = ", ".join("?" * len(ids))
        for call_id, *rest in self._fetch(db, f"SELECT call_id, at, speaker, text, intent, data FROM {self.turns} "
                                              f"WHERE call_id IN ({marks}) ORDER BY call_id, seq", ids):
            turns[call_id].append(sql.turn_from_row(rest))
        return [sql.record_from_row(r, turns[r[0]]) for r in rows]

    async def get(self, call_id: str) -> CallRecord | None:
        def work(db):
            rows = self._fetch(db, sql.SELECT_RECORD.format(records=self.records) + " WHERE id = ?", (call_id,))
            return self._with_turns(db, rows)

        found = await self._call(work)
        return found[0] if found else None

    async def find(self, where: CallFilter, limit: int = 100, offset: int = 0) -> list[CallRecord]:
        clause, params = sql.where_clause(where, self.turns)
        text = (sql.SELECT_RECORD.format(records=self.records) + f" {clause} "
                "ORDER BY r.started_at DESC, r.id LIMIT ? OFFSET ?")

        def work(db):
            return self._with_turns(db, self._fetch(db, text, (*params, int(limit), int(offset))))

        return await self._call(work)

    async def window(self, since: float, until: float, synthetic: bool = False) -> AsyncIterator[CallRecord]:
        """Records started in [since, until), oldest first, read a page at a time (keyset on the index)."""
        base = (sql.SELECT_RECORD.format(records=self.records)
                + " WHERE r.synthetic = ? AND r.started_at >= ? AND r.started_at < ?"
                " AND (r.started_at > ? OR r.id > ?) ORDER BY r.started_at, r.id LIMIT ?")
        after, after_id = since, ""  # no id is empty, so the first page takes every id at ``since``
        while True:
            params = (int(synthetic), after, until, after, after_id, PAGE)  # a range on the index, then the keyset

            def work(db, params=params):
                return self._with_turns(db, self._fetch(db, base, params))

            page = await self._call(work)
            for record in page:
                yield record
            if len(page) < PAGE:
                return
            after, after_id = page[-1].started_at, page[-1].id

    async def open_calls(self) -> list[CallRecord]:
        text = sql.SELECT_RECORD.format(records=self.records) + " WHERE r.outcome = ? ORDER BY r.started_at"
        return await self._call(lambda db: self._with_turns(db, self._fetch(db, text, (IN_PROGRESS,))))

    async def totals(self, since: float, until: float, service_level_seconds: float,
                     synthetic: bool = False) -> WindowTotals:
        text = sql.totals_query(self.records)
        by_reason = sql.escalations_query(self.records, self.json_field("data", "escalation_reason"))
        params = (int(synthetic), since, until)
        rows, escalations = await self._call(lambda db: (self._fetch(db, text, (service_level_seconds, *params)),
                                                         self._fetch(db, by_reason, params)))
        return sql.totals_from_rows(since, until, rows[0], escalations)

    async def agent_days(self, since: float, until: float) -> list[tuple]:
        """Per agent and day of the calls agents answered (``sql.agent_days_query``'s columns)."""
        text = sql.agent_days_query(self.records, self.day)
        return await self._call(lambda db: self._fetch(db, text, (since, until)))

    async def add_review(self, review: Review) -> None:
        row = sql.review_row(review)

        def work(db):
            self._write(db, review.call_id, lambda: db.execute(self._sql(
                f"INSERT INTO {self.reviews_table} (id, call_id, agent_id, reviewer, at, score, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)"), row))

        await self._call(work)

    async def reviews(self, call_id: str | None = None, agent_id: str | None = None) -> list[Review]:
        parts, params = [], []
        for column, value in (("call_id", call_id), ("agent_id", agent_id)):
            if value is not None:
                parts.append(f"{column} = ?")
                params.append(value)
        clause = ("WHERE " + " AND ".join(parts)) if parts else ""
        text = f"SELECT data FROM {self.reviews_table} {clause} ORDER BY at"
        rows = await self._call(lambda db: self._fetch(db, text, params))
        return [sql.review_from_row(r) for r in rows]

    async def close(self) -> None:
        def work():
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await asyncio.to_thread(work)
