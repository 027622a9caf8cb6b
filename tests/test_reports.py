"""Report figures against a hand-computed fixture (tests/report_fixture.py), edges of the window included.

The records are read from the real call-record stores (SQLite and PostgreSQL, ``records`` fixture)."""
from __future__ import annotations

from datetime import date

import pytest

from handoff.reports.report import build_report
from tests.report_fixture import fixture_records

FIRST, END = date(2026, 11, 2), date(2026, 11, 4)


@pytest.fixture
async def store(records):
    for record in fixture_records():
        await records.start(record)
    return records


async def test_totals_match_the_hand_computed_figures(store):
    report = await build_report(store, FIRST, END, by="day", service_level_seconds=20)
    t = report["totals"]
    # c1-c7, c10, c11, c13: c8 started before the window, c9 at its end, c12 is synthetic
    assert t["calls"] == 10 and t["in_progress"] == 1
    assert t["contained"] == 2 and t["ivr_containment"] == pytest.approx(2 / 9, abs=1e-4)
    assert (t["offered"], t["handled"], t["abandoned"], t["callbacks"]) == (6, 4, 1, 1)
    assert t["abandonment_rate"] == pytest.approx(1 / 6, abs=1e-4)
    assert t["service_level"] == pytest.approx(3 / 5)          # waits 15, 10, 5 of 40 s; c4 abandoned
    assert t["asa_seconds"] == pytest.approx(17.5)              # (15 + 40 + 10 + 5) / 4
    assert t["aht_seconds"] == pytest.approx(195.0)             # (300+30 + 200+20 + 120+0 + 100+10) / 4
    assert t["talk_seconds"] == pytest.approx(180.0)
    assert t["fallback_rate"] == pytest.approx(0.2)             # 1 of 5 classified caller turns
    assert (t["knowledge_answers"], t["knowledge_misses"]) == (1, 1)
    assert report["escalation_reasons"] == [{"reason": "agent_request", "calls": 3},
                                            {"reason": "pin_failed", "calls": 2}, {"reason": "complaint", "calls": 1}]
    assert report["intents"][0] == {"intent": "order_status", "turns": 2, "share": 0.4}
    assert report["articles"] == [{"article": "shipping-times", "answers": 1, "share": 1.0}]


async def test_periods_queues_agents_and_the_call_across_midnight(store):
    report = await build_report(store, FIRST, END, by="day", service_level_seconds=20)
    days = {row["period"]: row for row in report["periods"]}
    assert set(days) == {"2026-11-02", "2026-11-03"}
    monday = days["2026-11-02"]  # c7 started 23:59:30 and was answered after midnight: Monday's
    assert (monday["calls"], monday["offered"], monday["handled"]) == (7, 5, 3)
    assert monday["service_level"] == pytest.approx(0.5)        # c2, c7 in time; c3 late; c4 abandoned
    assert (days["2026-11-03"]["calls"], days["2026-11-03"]["handled"]) == (3, 1)
    queues = {row["queue"]: row for row in report["queues"]}
    assert queues["sales"]["asa_seconds"] == pytest.approx(20.0) and queues["sales"]["aht_seconds"] == 220.0
    assert queues["support"]["abandonment_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert queues["support"]["service_level"] == pytest.approx(0.5)
    agents = {row["agent"]: row for row in report["agents"]}
    assert (agents["alice"]["handled"], agents["alice"]["aht_seconds"]) == (2, 225.0)
    assert (agents["bob"]["handled"], agents["bob"]["aht_seconds"]) == (2, 165.0)


async def test_hourly_periods_and_the_traffic_pattern(store):
    report = await build_report(store, FIRST, END, by="hour")
    hours = {row["period"]: row["calls"] for row in report["periods"]}
    assert hours["2026-11-02T09:00"] == 3 and hours["2026-11-02T23:00"] == 1
    pattern = {row["hour"]: row for row in report["hour_of_day"]}
    assert pattern[9]["calls_per_day"] == 1.5 and pattern[9]["offered_per_day"] == 1.0   # 3 calls, 2 days
    assert pattern[3]["calls"] == 0
    weekdays = {row["day"]: row for row in report["day_of_week"]}
    assert weekdays["Monday"]["calls_per_day"] == 7.0 and weekdays["Tuesday"]["calls_per_day"] == 3.0
    assert weekdays["Wednesday"]["calls_per_day"] is None      # no Wednesday in the window


async def test_the_window_is_in_the_chosen_time_zone(store):
    report = await build_report(store, FIRST, END, tz="America/New_York")
    # New York midnight is 05:00 UTC: c1 (09:00 UTC) is in, c9 (00:00 UTC Nov 4 = 19:00 Nov 3) is in too
    assert report["totals"]["calls"] == 11
    days = {row["period"]: row["calls"] for row in report["periods"]}
    assert days == {"2026-11-02": 7, "2026-11-03": 4}


async def test_synthetic_calls_only_when_asked(store):
    report = await build_report(store, FIRST, END, synthetic=True)
    assert report["totals"]["calls"] == 1 and report["totals"]["asa_seconds"] == 100.0
    assert report["window"]["synthetic"] is True


async def test_an_empty_or_reversed_window_is_refused(store):
    with pytest.raises(ValueError):
        await build_report(store, END, FIRST)
    with pytest.raises(ValueError):
        await build_report(store, FIRST, END, by="month")


async def test_the_sql_fast_path_and_the_record_path_agree(store):
    """The SQL stores' report (columns and counted turns) equals the one built from whole CallRecords."""
    from handoff.reports.report import ReportBuilder

    for by in ("hour", "day"):
        fast = await build_report(store, FIRST, END, by=by, tz="Europe/Berlin")
        builder = ReportBuilder(FIRST, END, by, "Europe/Berlin")
        async for record in store.window(builder.since, builder.until, False):
            builder.add(record)
        assert builder.result() == fast
