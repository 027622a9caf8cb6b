"""The per-call turn counts the SQL stores keep as columns (what a report sums instead of reading every
turn's JSON): right however the turns were written, and filled in for a store made before they existed
(real SQLite and real PostgreSQL)."""
from __future__ import annotations

from datetime import date

from handoff.records import sql
from handoff.records.model import CONTAINED, CallRecord, Turn, turn_counts
from handoff.reports.report import ReportBuilder, build_report
from tests.report_fixture import fixture_records


async def stored_counts(store) -> dict[str, tuple[int, ...]]:
    names = ", ".join(sql.TURN_COUNTS)
    rows = await store._call(lambda db: db.execute(f"SELECT id, {names} FROM {store.records}").fetchall())
    return {row[0]: tuple(row[1:]) for row in rows}


async def expected_counts(store, ids) -> dict[str, tuple[int, ...]]:
    return {call_id: turn_counts((await store.get(call_id)).turns) for call_id in ids}


async def test_counts_follow_start_add_turn_and_import(records):
    await records.start(CallRecord("live", "sip", 100.0, turns=[Turn(1.0, "caller", "hi", intent="greet")]))
    for turn in (Turn(2.0, "caller", "[unclear]", fallback=True), Turn(3.0, "bot", "(no answer)", knowledge="missed"),
                 Turn(4.0, "bot", "Open 9-5", article="hours", knowledge="answered"), Turn(5.0, "bot", "Bye")):
        await records.add_turn("live", turn)
    imported = fixture_records()
    await records.import_records(imported)
    await records.import_records([CallRecord("c1", "sip", 1.0, outcome=CONTAINED,
                                             turns=[Turn(1.0, "caller", "x", fallback=True)])])  # already stored

    counts = await stored_counts(records)
    assert counts["live"] == (2, 1, 1, 1)
    assert counts == await expected_counts(records, counts)
    assert (await records.get("c1")) == next(r for r in imported if r.id == "c1")  # the second import left it
    assert any(c[2] for c in counts.values()) and any(c[1] for c in counts.values())


async def test_a_store_from_before_the_counts_gets_them_on_open(records_backend):
    """A records table without the count columns (as an older Helpline made it) gains them, filled from
    its turns, and the report read from the columns equals the one built from whole records."""
    store = records_backend.open()
    for record in fixture_records():
        await store.start(record)
    await store.add_turn("c1", Turn(9.0, "caller", "[unclear]", fallback=True))
    for column in sql.TURN_COUNTS:
        await store._call(lambda db, column=column: db.execute(f"ALTER TABLE {store.records} DROP COLUMN {column}"))
    await store.close()

    reopened = records_backend.open()
    try:
        counts = await stored_counts(reopened)
        assert counts == await expected_counts(reopened, counts)
        assert counts["c1"] == (2, 1, 1, 0)
        first, end = date(2026, 11, 2), date(2026, 11, 4)
        fast = await build_report(reopened, first, end, by="hour")
        builder = ReportBuilder(first, end, "hour")
        async for record in reopened.window(builder.since, builder.until, False):
            builder.add(record)
        assert fast == builder.result()
        assert fast["totals"]["fallback_rate"]
    finally:
        await reopened.close()
