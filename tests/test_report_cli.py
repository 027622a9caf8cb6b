"""``helpline demo-data`` and ``helpline report`` as a user runs them, on the demo project's real stores."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta

from handoff.records.model import CONTAINED, CallRecord
from handoff.records.sqlite_store import SqliteCallRecordStore
from tests.conftest import ROOT


def helpline(data_dir, *args):
    env = {**os.environ, "HELPLINE_DATA_DIR": str(data_dir)}
    for name in ("HELPLINE_RECORDS_STORE", "HELPLINE_HANDOFF_STORE", "HELPLINE_TRACKER_STORE"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "helpline.cli", "--project", str(ROOT), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def window(days: int) -> tuple[str, str]:
    end = date.today()
    return (end - timedelta(days=days)).isoformat(), end.isoformat()


def test_demo_data_then_reports_in_every_format(tmp_path):
    made = helpline(tmp_path, "demo-data", "--days", "3", "--calls-per-day", "60")
    assert made.returncode == 0, made.stderr
    written = int(made.stdout.split()[0])
    assert written > 0
    first, end = window(3)
    synthetic = json.loads(helpline(tmp_path, "report", "--from", first, "--to", end, "--synthetic",
                                    "--format", "json", "--staff-plan").stdout)
    totals = synthetic["totals"]
    assert totals["calls"] == written and totals["handled"] + totals["abandoned"] <= totals["offered"]
    assert 0 < totals["ivr_containment"] < 1 and totals["aht_seconds"] > 0
    assert [row["hour"] for row in synthetic["staff_plan"]] == list(range(24))
    assert any(row["signed_in"] for row in synthetic["staff_plan"])         # the demo's shifts
    assert len(synthetic["periods"]) == 3
    real = json.loads(helpline(tmp_path, "report", "--from", first, "--to", end, "--format", "json").stdout)
    assert real["totals"]["calls"] == 0                                      # synthetic calls stay apart
    hourly = helpline(tmp_path, "report", "--from", first, "--to", end, "--synthetic", "--by", "hour",
                      "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(hourly.stdout)))
    assert sum(int(r["calls"]) for r in rows) == written and rows[0]["period"].startswith(first)
    table = helpline(tmp_path, "report", "--from", first, "--to", end, "--synthetic", "--agent", "--queue")
    assert table.returncode == 0 and "service level" in table.stdout and "agents:" in table.stdout
    again = helpline(tmp_path, "demo-data", "--days", "3", "--calls-per-day", "60")
    assert again.returncode == 0
    twice = json.loads(helpline(tmp_path, "report", "--from", first, "--to", end, "--synthetic",
                                "--format", "json").stdout)
    assert twice["totals"]["calls"] == written                              # the same days are not doubled
    assert twice["totals"] == totals and twice["intents"] == synthetic["intents"]  # nor their turns


def test_demo_data_refuses_a_store_with_real_calls(tmp_path):
    async def one_real_call():
        store = SqliteCallRecordStore(tmp_path / "records.sqlite3")
        await store.start(CallRecord("real-1", "twilio", 1.0e9, outcome=CONTAINED))
        await store.close()

    asyncio.run(one_real_call())
    refused = helpline(tmp_path, "demo-data", "--days", "1", "--calls-per-day", "20")
    assert refused.returncode == 1 and "holds real calls" in refused.stderr
    forced = helpline(tmp_path, "demo-data", "--days", "1", "--calls-per-day", "20", "--force")
    assert forced.returncode == 0, forced.stderr


def test_bad_arguments_are_one_line_errors(tmp_path):
    result = helpline(tmp_path, "report", "--from", "2026-11-05", "--to", "2026-11-01")
    assert result.returncode == 1 and "error:" in result.stderr and "Traceback" not in result.stderr
    result = helpline(tmp_path, "report", "--from", "yesterday", "--to", "2026-11-01")
    assert result.returncode == 1 and "not a date" in result.stderr
    result = helpline(tmp_path, "report", "--from", "2026-11-01", "--to", "2026-11-02", "--tz", "Mars/Olympus")
    assert result.returncode == 1 and "unknown time zone" in result.stderr and "Traceback" not in result.stderr
    result = helpline(tmp_path, "report", "--from", "2026-11-01", "--to", "2026-11-02", "--format", "csv",
                      "--queue", "--agent")
    assert result.returncode == 1 and "one table" in result.stderr


def test_a_report_window_before_year_one_is_a_clear_error_not_an_overflow():
    import pytest

    from handoff.reports.web import _request

    with pytest.raises(ValueError, match="too early"):
        _request({"to": "0001-01-01"})
