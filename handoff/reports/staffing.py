"""The staff plan: agents needed per hour of the day (Erlang C) next to the agents who were signed in.

Needed: from the report's hour-of-day pattern, the average calls offered in that hour per day and
their AHT (the window's AHT for hours without a handled call), through ``erlang.agents_needed``.
Signed in: the ACD's sign-in and sign-out records (``presence``), averaged over the window's days
for each local hour: 1.5 means one agent all hour and another for half of it, on the average day.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from handoff.acd_agents import PRESENCE
from handoff.reports.erlang import agents_needed
from handoff.reports.periods import Calendar

_SLOT = 900


@dataclass(frozen=True)
class Targets:
    service_level: float = 0.8
    answer_seconds: float = 20.0
    shrinkage: float = 0.3
    max_occupancy: float = 0.85


def staff_plan(report: dict, targets: Targets, signed_in: list[float] | None = None) -> list[dict]:
    """One row per hour of the day (0..23); ``signed_in`` None when there is no sign-in history."""
    fallback_aht = report["totals"]["aht_seconds"]
    rows = []
    for row in report["hour_of_day"]:
        hour = row["hour"]
        calls = row["offered_per_day"] or 0.0
        aht = row["aht_seconds"] or fallback_aht or 0.0
        plan = agents_needed(calls, aht, targets.service_level, targets.answer_seconds, targets.max_occupancy,
                             targets.shrinkage)
        rows.append({"hour": hour, "calls_per_hour": round(calls, 2), "aht_seconds": round(aht, 1),
                     "traffic_erlangs": plan.traffic, "agents_needed": plan.agents, "agents_rostered": plan.scheduled,
                     "expected_service_level": plan.service_level if plan.agents else None,
                     "expected_asa_seconds": plan.asa_seconds if plan.agents else None,
                     "signed_in": None if signed_in is None else round(signed_in[hour], 2)})
    return rows


async def signed_in_by_hour(acd_store, calendar: Calendar, since: float, until: float, days: int,
                            synthetic: bool = False) -> list[float] | None:
    """Average agents signed in during each local hour of ``[since, until)``; None without any record.

    ``synthetic`` reads the demo's shifts (``helpline demo-data``) instead of the real sign-ins.
    An agent whose first record in the window is a sign-out was signed in from the window's start; one
    still signed in at its end counts until the end (or until now, for a window reaching the future).
    """
    records = await acd_store.records(PRESENCE, since=since)
    events: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for item in records:
        if item["at"] < until and bool(item.get("synthetic")) == synthetic:
            events[item["agent_id"]].append((item["at"], bool(item["signed_in"])))
    if not events:
        return None
    seconds = [0.0] * 24
    for agent_events in events.values():
        agent_events.sort()
        start = since if not agent_events[0][1] else None
        for at, signed_in in agent_events:
            if signed_in and start is None:
                start = at
            elif not signed_in and start is not None:
                _spread(seconds, calendar, start, at)
                start = None
        if start is not None:
            _spread(seconds, calendar, start, min(until, time.time()))
    return [s / 3600 / days for s in seconds] if days else None


def _spread(seconds: list[float], calendar: Calendar, start: float, end: float) -> None:
    """Add ``[start, end)`` to the hours of the day it covers, a quarter hour at a time."""
    at = start
    while at < end:
        step = min(end, (at // _SLOT + 1) * _SLOT)
        seconds[calendar.place(at).hour_of_day] += step - at
        at = step
