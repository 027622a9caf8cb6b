"""The supervisor's view: queues, agents by state, live KPIs and threshold alerts.

KPIs follow the usual contact-centre definitions: service level = answered
within ``service_level_seconds`` / (answered + abandoned); ASA = mean time to
answer; AHT = mean talk time of completed calls; IVR containment = share of
conversations the bot finished without a person.
"""
from __future__ import annotations

from collections import Counter
from typing import Awaitable, Callable

from handoff.acd import ACD
from handoff.model import ABANDONED, AGENT_STATES, CONNECTED, WAITING, to_dict


async def supervisor_view(acd: ACD, service_level_seconds: float, alerts: dict[str, float],
                          conversations: Callable[[], Awaitable[int]] | None = None,
                          window: float = 24 * 3600) -> dict:
    now = acd.clock()
    live = await acd.store.calls()
    agents = await acd.store.agents()
    records = await acd.store.records("call", since=now - window)
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
    answered = [r for r in records if r.get("answered_at")] + [to_dict(c) for c in live if c.answered_at]
    abandoned = [r for r in records if r["state"] == ABANDONED]
    waits = [r["answered_at"] - r["entered_at"] for r in answered]
    talks = [r["ended_at"] - r["answered_at"] for r in records if r.get("answered_at") and r.get("ended_at")]
    offered = len(answered) + len(abandoned)
    escalations = Counter(r.get("reason") or "unknown" for r in records) + Counter(c.reason or "unknown" for c in live)
    kpis = {
        "calls_offered": offered,
        "service_level": round(sum(1 for w in waits if w <= service_level_seconds) / offered, 3) if offered else None,
        "asa_seconds": round(sum(waits) / len(waits), 1) if waits else None,
        "aht_seconds": round(sum(talks) / len(talks), 1) if talks else None,
        "abandonment_rate": round(len(abandoned) / offered, 3) if offered else None,
        "ivr_containment": None,
        "escalations_by_reason": dict(escalations),
        "callbacks_pending": sum(1 for c in await acd.store.records("callback") if c.get("status") == "pending"),
    }
    if conversations is not None:
        total = await conversations()
        escalated = len({r["id"] for r in records} | {c.id for c in live})
        kpis["ivr_containment"] = round(1 - escalated / total, 3) if total else None
    return {
        "now": now,
        "queues": queues,
        "agents": [{"id": a.id, "name": a.name, "state": a.state, "since": round(now - a.state_since, 1),
                    "calls_taken": a.calls_taken, "current_call": a.current_call} for a in agents],
        "agents_by_state": {s: sum(1 for a in agents if a.state == s) for s in AGENT_STATES},
        "kpis": kpis,
        "alerts": _alerts(kpis, queues, alerts),
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
