"""Report generation over a month of synthetic calls (about 100,000) on the SQLite call-record store.

    python bench/reports.py [--calls 100000] [--db PATH] [--postgres DSN]

Fills a store with ``helpline demo-data``'s generator (November 2026, the weekday volume chosen so the
month holds about ``--calls`` calls; skipped when the store already holds them), then times the month's
report by day, by hour and by week (best of three, a fresh builder each time) and measures the peak
memory of one report (tracemalloc, Python allocations, in a separate run: tracing slows it). For
comparison, the report built from full ``CallRecord`` objects (``store.window``, the generic path)
is timed once. Target: a month's report in under 2 s. Results: bench/results/reports.json.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from handoff.reports.demo_data import WEEKEND_SHARE, DemoShape, demo_calls  # noqa: E402
from handoff.reports.periods import Calendar, days_by_weekday  # noqa: E402
from handoff.reports.report import ReportBuilder, build_report  # noqa: E402

FIRST, END = date(2026, 11, 1), date(2026, 12, 1)


async def fill(store, calls: int) -> tuple[int, float]:
    """The month's calls, unless the store holds them already. Written in bulk (``import_records``), a
    transaction per 5,000 calls (``start`` commits every call and turn on its own, as a live call must:
    on PostgreSQL 100,000 calls would take most of an hour)."""
    existing = 0
    async for _ in store.window(Calendar().day_start(FIRST), Calendar().day_start(END), synthetic=True):
        existing += 1
    if existing >= calls * 0.9:
        return existing, 0.0
    days = days_by_weekday(FIRST, END)
    per_weekday = round(calls / (sum(days[:5]) + WEEKEND_SHARE * sum(days[5:])))
    shape = DemoShape(per_weekday, ("general", "billing", "orders"), tuple(f"agent{n:02d}" for n in range(40)))
    started, written, batch = time.perf_counter(), 0, []
    for record in demo_calls(FIRST, END, Calendar("UTC"), shape):
        batch.append(record)
        if len(batch) == 5000:
            await store.import_records(batch)
            written += len(batch)
            batch = []
            print(f"  {written} calls written ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    await store.import_records(batch)
    return written + len(batch), time.perf_counter() - started


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def timed(store, by: str, runs: int = 3) -> tuple[float, float, dict]:
    """Best wall time of ``runs`` and the CPU time (all threads) of that run: on a busy box the wall time
    includes waiting for a core, while the CPU time is the work itself."""
    best, cpu, report = float("inf"), 0.0, None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), cpu_seconds()
        report = await build_report(store, FIRST, END, by=by, synthetic=True)
        if time.perf_counter() - started < best:
            best, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    return best, cpu, report


async def generic_path(store) -> float:
    builder = ReportBuilder(FIRST, END, "day", synthetic=True)
    started = time.perf_counter()
    async for record in store.window(builder.since, builder.until, True):
        builder.add(record)
    builder.result()
    return time.perf_counter() - started


async def measure(store, name: str, calls: int) -> dict:
    count, fill_seconds = await fill(store, calls)
    print(f"{name}: {count} calls in the store", file=sys.stderr)
    result = {"store": name, "calls": count, "fill_seconds": round(fill_seconds, 1) if fill_seconds else None,
              "load_average_before": round(os.getloadavg()[0], 1)}
    for by in ("day", "hour", "week"):
        seconds, cpu, report = await timed(store, by)
        assert report["totals"]["calls"] == count, (report["totals"]["calls"], count)
        result[f"report_by_{by}_seconds"] = round(seconds, 3)
        result[f"report_by_{by}_cpu_seconds"] = round(cpu, 3)
        print(f"  report by {by}: {seconds:.3f} s, CPU {cpu:.3f} s ({len(report['periods'])} rows)", file=sys.stderr)
    tracemalloc.start()
    await build_report(store, FIRST, END, by="hour", synthetic=True)
    result["report_peak_python_memory_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
    tracemalloc.stop()
    result["generic_record_path_seconds"] = round(await generic_path(store), 2)
    result["load_average_after"] = round(os.getloadavg()[0], 1)
    print(f"  peak memory {result['report_peak_python_memory_mib']} MiB; generic path "
          f"{result['generic_record_path_seconds']} s", file=sys.stderr)
    return result


async def main(args) -> None:
    from handoff.records.sqlite_store import SqliteCallRecordStore

    results = []
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(args.db) if args.db else Path(scratch) / "records.sqlite3"
        store = SqliteCallRecordStore(db)
        try:
            results.append(await measure(store, "sqlite", args.calls))
        finally:
            await store.close()
    if args.postgres:
        from handoff.records.postgres_store import PostgresCallRecordStore

        store = PostgresCallRecordStore(args.postgres, prefix="bench_reports")
        try:
            results.append(await measure(store, "postgresql", args.calls))
        finally:
            await store.close()
    path = write_result("reports.json", {
        "command": "python " + " ".join(["bench/reports.py", *sys.argv[1:]]),
        "window": f"{FIRST} to {END} (30 days), synthetic calls", "target_seconds": 2.0, "results": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--db", help="SQLite file to fill once and reuse (default: a temporary one)")
    parser.add_argument("--postgres", help="also on PostgreSQL (tables bench_reports_*), e.g. "
                                           "postgresql://postgres@127.0.0.1:5432/test")
    asyncio.run(main(parser.parse_args()))
