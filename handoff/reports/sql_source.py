"""The report's fast path on the SQL call-record stores: the columns and turn counts it needs, from SQL.

``CallRecordStore.window`` builds a full ``CallRecord`` (its JSON, every turn) per call: right for the
call list, about 0.1 ms a call, so 12 s for a month of 100,000 calls. A report needs a few columns
of each call, and of the turns only counts, so on the SQLite and PostgreSQL stores it asks for:

- the calls' columns, one row per call, streamed a batch at a time into ``ReportBuilder.add_call``
  (PostgreSQL: a server-side cursor), never all at once;
- the calls' turn counts (``sql.TURN_COUNTS``, columns the store keeps as turns are added) summed
  per quarter hour (the finest grain any report row needs: periods and the hour-of-day pattern are
  whole quarter hours in every time zone), the intents grouped, and the knowledge answers grouped per
  article (reading the JSON of only the calls that had one): small results, whatever the number of calls.

The two run at once on connections of their own (the store's stays free for the calls being
written), so the database counts turns while Python adds up calls. The definitions stay in
``ReportBuilder``/``Tally``: both paths feed the same methods.
"""
from __future__ import annotations

import asyncio

from handoff.records.model import IN_PROGRESS
from handoff.records.sql import TURN_COUNTS
from handoff.records.sql_base import SqlCallRecordStore
from handoff.reports.report import ReportBuilder

BATCH = 5000
SLOT = 900


class _Queries:
    def __init__(self, store: SqlCallRecordStore):
        sqlite = store.placeholder == "?"
        self.store = store
        self.postgres = not sqlite
        window = "r.synthetic = ? AND r.started_at >= ? AND r.started_at < ?"
        slot = f"CAST(r.started_at / {SLOT} AS INTEGER)" if sqlite else f"FLOOR(r.started_at / {SLOT})::bigint"
        finished = f"{window} AND r.outcome <> '{IN_PROGRESS}'"
        self.calls = (f"SELECT r.started_at, r.outcome, r.queue, r.agent_id, r.queued_at, r.answered_at, "
                      f"r.agent_ended_at, r.wrap_up_seconds, {store.json_field('r.data', 'escalation_reason')} "
                      f"FROM {store.records} r WHERE {window}")
        sums = ", ".join(f"SUM(r.{c})" for c in TURN_COUNTS)
        self.turn_counts = f"SELECT {slot} AS slot, {sums} FROM {store.records} r WHERE {finished} GROUP BY slot"
        turns = f"FROM {store.turns} t JOIN {store.records} r ON r.id = t.call_id WHERE {finished}"
        # Only the turns of calls with a knowledge answer are read, and only for the article's name.
        article = store.json_field("t.data", "article")
        self.articles = (f"SELECT {article} AS art, COUNT(*) {turns} AND r.knowledge_answers > 0 "
                         f"AND {store.json_field('t.data', 'knowledge')} = 'answered' "
                         f"AND {article} IS NOT NULL AND {article} <> '' GROUP BY art")
        self.intents = f"SELECT t.intent, COUNT(*) {turns} AND t.intent IS NOT NULL GROUP BY t.intent"

    def stream(self, text: str, params: tuple):
        """The rows of a query with one row per call, a batch at a time."""
        db = self.store._connect()
        try:
            if self.postgres:
                db.autocommit = False  # a server-side cursor lives in a transaction
                with db.cursor(name="helpline_report") as cursor:
                    cursor.itersize = BATCH
                    cursor.execute(self.store._sql(text), params)
                    yield from cursor
                return
            cursor = db.execute(text, params)
            while rows := cursor.fetchmany(BATCH):
                yield from rows
        finally:
            db.close()

    def grouped(self, text: str, params: tuple) -> list[tuple]:
        """The rows of a grouped query (a few thousand at most). On PostgreSQL a plain cursor, with which
        the server may scan in parallel (a server-side cursor never does)."""
        db = self.store._connect()
        try:
            return db.execute(self.store._sql(text), params).fetchall()
        finally:
            db.close()


def _add_calls(queries: _Queries, builder: ReportBuilder, params: tuple) -> None:
    for row in queries.stream(queries.calls, params):
        builder.add_call(*row)


def _count_turns(queries: _Queries, params: tuple) -> tuple[list, list, list]:
    return tuple(queries.grouped(text, params) for text in (queries.turn_counts, queries.articles, queries.intents))


async def feed_from_sql(store, builder: ReportBuilder) -> bool:
    """Fill ``builder`` from a SQL store's tables; False (nothing done) for any other kind of store."""
    if not isinstance(store, SqlCallRecordStore):
        return False
    await store._call(lambda db: None)  # opens the store: its tables exist before a connection of our own reads them
    queries = _Queries(store)
    params = (int(builder.synthetic), builder.since, builder.until)
    _, (counts, articles, intents) = await asyncio.gather(
        asyncio.to_thread(_add_calls, queries, builder, params), asyncio.to_thread(_count_turns, queries, params))
    for slot, *numbers in counts:
        builder.add_turns(max(slot * SLOT, builder.since), *(int(n) for n in numbers))
    builder.articles.update({article: int(n) for article, n in articles})
    builder.intents.update({intent: int(n) for intent, n in intents})
    return True
