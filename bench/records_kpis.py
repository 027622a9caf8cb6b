"""Call records at scale: the live KPI query, the call list and the per-turn write, on SQLite and PostgreSQL.

Fills a fresh store with ``--calls`` calls spread over 30 days (six lines each; a third handed off,
a tenth abandoned), written straight through the schema's bulk insert, then times what the running
server does: ``totals`` (the supervisor page's KPIs) over the last 24 h, 7 and 30 days, a filtered
and a keyword search of the call list (first page), the per-agent sums of 30 days (the agent
performance table), streaming a day of records (what reports read), and ``add_turn`` one line at
a time (on the call's path: each is a committed transaction).

    python bench/records_kpis.py --calls 100000 [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from handoff.records.base import CallFilter  # noqa: E402
from handoff.records.model import ABANDONED, CONTAINED, HANDED_OFF, CallRecord, Turn  # noqa: E402
from handoff.records.postgres_store import PostgresCallRecordStore  # noqa: E402
from handoff.records.sqlite_store import SqliteCallRecordStore  # noqa: E402

DAY = 86400.0
WORDS = ["order", "balance", "refund", "parcel", "delivery", "card", "address", "complaint", "invoice", "hours"]


def synthetic_calls(count: int, now: float, seed: int = 7):
    rng = random.Random(seed)
    for i in range(count):
        start = now - rng.random() * 30 * DAY
        kind = rng.random()
        record = CallRecord(f"b{i:07d}", "twilio", start, caller=f"•••••••{rng.randrange(10000):04d}",
                            ended_at=start + rng.uniform(30, 400), qa_score=round(rng.uniform(20, 100), 1))
        if kind < 0.33:
            queued = start + rng.uniform(20, 90)
            answered = queued + rng.expovariate(1 / 25)
            record.outcome, record.queue, record.agent_id = HANDED_OFF, "general", f"agent{rng.randrange(20)}"
            record.queued_at, record.answered_at = queued, answered
            record.agent_ended_at = answered + rng.uniform(60, 400)
            record.wrap_up_seconds = rng.uniform(5, 30)
        elif kind < 0.43:
            record.outcome, record.queue, record.queued_at = ABANDONED, "general", start + 30
        else:
            record.outcome = CONTAINED
        record.turns = [Turn(float(t * 4), "caller" if t % 2 else "bot", f"about my {rng.choice(WORDS)} please",
                             intent=rng.choice(["check_order_status", "check_balance", "faq"]) if t % 2 else None)
                        for t in range(6)]
        yield record


async def fill(store, count: int, now: float) -> float:
    """Bulk insert (``import_records``, 5,000 calls a transaction); returns seconds."""
    started = time.perf_counter()
    batch: list[CallRecord] = []
    for record in synthetic_calls(count, now):
        batch.append(record)
        if len(batch) == 5000:
            await store.import_records(batch)
            batch = []
    if batch:
        await store.import_records(batch)
    if store.placeholder == "%s":
        await store._call(lambda db: db.execute(f"ANALYZE {store.records}"))
    return time.perf_counter() - started


async def timed(work, repeat: int = 5) -> dict:
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await work()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}, result


async def measure(store, count: int) -> dict:
    now = time.time()
    out = {"calls": count, "fill_seconds": round(await fill(store, count, now), 1)}
    for label, span in (("totals_24h", DAY), ("totals_7d", 7 * DAY), ("totals_30d", 30 * DAY)):
        out[label], totals = await timed(lambda span=span: store.totals(now - span, now, 20.0))
        out[label]["calls_in_window"] = totals.finished
    out["list_filtered"], _ = await timed(lambda: store.find(CallFilter(since=now - 7 * DAY, outcome=HANDED_OFF,
                                                                         qa_below=50), limit=100))
    out["list_keyword"], _ = await timed(lambda: store.find(CallFilter(keyword="refund"), limit=100))

    out["agent_days_30d"], _ = await timed(lambda: store.agent_days(now - 30 * DAY, now))

    async def a_day():
        return sum(1 for _ in [r async for r in store.window(now - DAY, now)])

    out["window_24h"], streamed = await timed(a_day, repeat=3)
    out["window_24h"]["records"] = streamed
    call_id = f"live-{uuid.uuid4().hex[:8]}"
    await store.start(CallRecord(call_id, "twilio", now))
    turn_ms = []
    for i in range(300):
        started = time.perf_counter()
        await store.add_turn(call_id, Turn(float(i), "caller", "where is my order please", intent="check_order_status"))
        turn_ms.append((time.perf_counter() - started) * 1000)
    turn_ms.sort()
    out["add_turn"] = {"p50_ms": round(turn_ms[len(turn_ms) // 2], 2), "p95_ms": round(turn_ms[int(len(turn_ms) * .95)], 2)}
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--postgres", help="also measure PostgreSQL at this DSN (tables of their own, dropped after)")
    args = parser.parse_args()
    results = {"command": " ".join(["python bench/records_kpis.py", *sys.argv[1:]])}
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteCallRecordStore(Path(folder) / "records.sqlite3")
        print(f"SQLite: filling {args.calls} calls ...", flush=True)
        results["sqlite"] = await measure(store, args.calls)
        await store.close()
        print(results["sqlite"], flush=True)
    if args.postgres:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        store = PostgresCallRecordStore(args.postgres, prefix=prefix)
        print(f"PostgreSQL: filling {args.calls} calls ...", flush=True)
        try:
            results["postgres"] = await measure(store, args.calls)
            print(results["postgres"], flush=True)
        finally:
            db = store._open()
            for table in ("records", "turns", "reviews"):
                db.execute(f"DROP TABLE IF EXISTS {prefix}_{table}")
            await store.close()
    print(write_result("records_kpis.json", results))


if __name__ == "__main__":
    asyncio.run(main())
