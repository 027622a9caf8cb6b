"""The staff plan: sign-ins recorded by the real ACD (SQLite store), agents needed from the report's pattern."""
from __future__ import annotations

from datetime import date

import pytest

from handoff.acd import ACD
from handoff.model import Agent, QueueConfig
from handoff.reports.periods import Calendar
from handoff.reports.report import build_report
from handoff.reports.staffing import Targets, signed_in_by_hour, staff_plan
from handoff.store.sqlite_store import SqliteStore
from tests.report_fixture import at, fixture_records


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_sign_ins_and_sign_outs_become_hours_signed_in(tmp_path):
    clock = Clock(at(2, 9))
    acd = ACD(SqliteStore(tmp_path / "acd.sqlite3"), [QueueConfig("sales")], clock=clock)
    for agent_id in ("alice", "bob"):
        await acd.register_agent(Agent(agent_id, agent_id, {"general": 5}, 1))
    assert await acd.set_agent_state("alice", "available")            # 09:00 in
    clock.now = at(2, 10)
    await acd.set_agent_state("bob", "available")                     # 10:00 in
    clock.now = at(2, 10, 15)
    await acd.set_agent_state("alice", "away")                         # still signed in: no record
    clock.now = at(2, 10, 30)
    await acd.agent_disconnected("bob")                                # 10:30 out (desk closed)
    clock.now = at(2, 11, 30)
    await acd.set_agent_state("alice", "offline")                     # 11:30 out
    calendar = Calendar("UTC")
    since, until = calendar.window(date(2026, 11, 2), date(2026, 11, 4))
    hours = await signed_in_by_hour(acd.store, calendar, since, until, days=2)
    assert hours[9] == pytest.approx(0.5)            # alice all hour, on one of two days
    assert hours[10] == pytest.approx(0.75)          # alice 1 h + bob 0.5 h, over two days
    assert hours[11] == pytest.approx(0.25)
    assert sum(hours) == pytest.approx((2.5 + 0.5) / 2)
    await acd.store.close()


async def test_no_sign_in_history_is_reported_as_unknown(tmp_path):
    store = SqliteStore(tmp_path / "acd.sqlite3")
    calendar = Calendar("UTC")
    assert await signed_in_by_hour(store, calendar, *calendar.window(date(2026, 11, 2), date(2026, 11, 3)), 1) is None
    await store.close()


async def test_agents_needed_follow_the_hourly_pattern(records):
    for record in fixture_records():
        await records.start(record)
    report = await build_report(records, date(2026, 11, 2), date(2026, 11, 4))
    signed_in = [0.0] * 24
    signed_in[9] = 1.0
    plan = {row["hour"]: row for row in staff_plan(report, Targets(0.8, 20, 0.3, 0.85), signed_in)}
    assert plan[3]["agents_needed"] == 0 and plan[3]["calls_per_hour"] == 0
    nine = plan[9]  # two calls offered at 9 over two days (1 an hour), AHT of c2 and c3: 275 s
    assert nine["calls_per_hour"] == 1.0 and nine["aht_seconds"] == 275.0
    assert nine["traffic_erlangs"] == pytest.approx(275 / 3600, abs=1e-3)
    assert nine["agents_needed"] == 1 and nine["agents_rostered"] == 2 and nine["signed_in"] == 1.0
    assert plan[10]["aht_seconds"] == report["totals"]["aht_seconds"]   # nobody handled at 10: the window's AHT
    assert staff_plan(report, Targets())[9]["signed_in"] is None
