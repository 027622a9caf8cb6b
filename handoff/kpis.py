"""The supervisor's view: queues, agents by state, live KPIs and threshold alerts.

KPIs follow the usual contact-centre definitions, all over ONE window of calls (those that
started in the last ``kpi_window_hours``), numerator and denominator alike:

* IVR containment = calls the bot finished alone / calls finished;
* service level = queued calls answered within ``service_level_seconds`` / (answered + abandoned);
* ASA = mean seconds from entering the queue to an agent answering;
* AHT = mean talk + wrap-up seconds of the calls agents finished;
* abandonment = queued callers who hung up before an answer / (answered + abandoned);
* escalations by reason = queued calls by why the bot handed them over.

A call belongs to the window it started in, so a call that started before the window and ends in
it is not counted, and one that started in it and is still going counts once it is answered or
ends. The figures come from the call records (``handoff.records``) in one indexed range query
(``CallRecordStore.totals``), cached until a call closes or ``max_age`` passes, instead of a scan
of every conversation on each refresh of the page.
"""
from __future__ import annotations

from typing import Awaitable, Callable

from handoff.acd import ACD
from handoff.model import AGENT_STATES, CONNECTED, WAITING
from handoff.records.base import CallRecordStore, WindowTotals
from handoff.records.model import CallRecord


def kpis_of(totals: WindowTotals) -> dict:
    """The KPI ratios of one window's sums (None where a figure has no calls to speak of)."""
    offered = totals.answered + totals.abandoned
    return {
        "window_start": totals.since,
        "window_end": totals.until,
        "calls_finished": totals.finished,
        "calls_offered": offered,
        "ivr_containment": round(totals.contained / totals.finished, 3) if totals.finished else None,
        "service_level": round(totals.answered_in_time / offered, 3) if offered else None,
        "asa_seconds": round(totals.wait_total / totals.answered, 1) if totals.answered else None,
        "aht_seconds": round(totals.handle_total / totals.handled, 1) if totals.handled else None,
        "abandonment_rate": round(totals.abandoned / offered, 3) if offered else None,
        "escalations_by_reason": dict(totals.escalations),
    }


class LiveKpis:
    """The KPIs of the last ``window`` seconds, recomputed at most every ``max_age`` seconds or when a call closes."""

    def __init__(self, store: CallRecordStore, window: float, service_level_seconds: float,
                 clock: Callable[[], float], max_age: float = 5.0):
        self.store, self.window, self.service_level_seconds = store, window, service_level_seconds
        self.clock, self.max_age = clock, max_age
        self._cached: tuple[float, dict] | None = None

    async def current(self) -> dict:
        now = self.clock()
        if self._cached is None or now - self._cached[0] > self.max_age:
            totals = await self.store.totals(now - self.window, now, self.service_level_seconds)
            self._cached = (now, kpis_of(totals))
        return dict(self._cached[1])

    async def call_closed(self, record: CallRecord) -> None:
        self._cached = None


async def supervisor_view(acd: ACD, alerts: dict[str, float], kpis: Callable[[], Awaitable[dict]] | None = None,
                          window: float = 24 * 3600) -> dict:
    now = acd.clock()
    live = await acd.store.calls()
    agents = await acd.store.agents()
    queues = []
    for queue in acd.queues.values():
        waiting = sorted((c for c in live if c.queue == queue.name and c.state == WAITING),
                         key=lambda c: c.order_key())
        queues.append({
            "name": queue.name, "skill": queue.skill, "strategy": queue.strategy, "waiting": len(waiting),
            "longest_wait": round(max((now - c.entered_at for c in waiting), default=0.0), 1),
            "estimated_wait": _finite(await acd.estimated_wait(queue, len(waiting) + 1)),
            "connected": sum(1 for c in live if c.queue == queue.name and c.state == CONNECTED),
            "calls": [{"id": c.id, "reason": c.reason, "priority": c.priority,
                       "waited": round(now - c.entered_at, 1)} for c in waiting],
        })
    figures = await kpis() if kpis is not None else kpis_of(WindowTotals(now - window, now))
    figures["callbacks_pending"] = sum(1 for c in await acd.store.records("callback") if c.get("status") == "pending")
    return {
        "now": now,
        "queues": queues,
        "agents": [{"id": a.id, "name": a.name, "state": a.state,
                    "since": round(now - a.state_since, 1) if a.state_since else None,  # None: never signed in
                    "calls_taken": a.calls_taken, "current_call": a.current_call} for a in agents],
        "agents_by_state": {s: sum(1 for a in agents if a.state == s) for s in AGENT_STATES},
        "kpis": figures,
        "alerts": _alerts(figures, queues, alerts),
    }


def _alerts(kpis: dict, queues: list[dict], thresholds: dict[str, float]) -> list[str]:
    alerts = []
    floor = thresholds.get("service_level_below")
    if floor is not None and kpis["service_level"] is not None and kpis["service_level"] < floor:
        alerts.append(f"Service level {kpis['service_level']:.0%} is below {floor:.0%}")
    ceiling = thresholds.get("waiting_above")
    for queue in queues:
        if ceiling is not None and queue["waiting"] > ceiling:
            alerts.append(f"Queue {queue['name']}: {queue['waiting']} callers waiting (more than {int(ceiling)})")
    return alerts


def _finite(seconds: float) -> float | None:
    return None if seconds == float("inf") else round(seconds, 1)
