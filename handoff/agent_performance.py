"""Per agent over a period: calls handled, average handle, talk and wrap-up time, QA by day, reviews.

Summed by the store per agent and UTC day (one grouped, indexed query: a month of calls is never
loaded), combined here with the supervisors' reviews. AHT is talk plus wrap-up, as the live KPIs
count it; the automatic QA score of the calls an agent handled makes their daily mean.
"""
from __future__ import annotations

import time
from collections import defaultdict

from handoff.records.model import Review

DAY = 86400


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


def agent_performance(days: list[tuple], reviews: list[Review]) -> list[dict]:
    """``days``: rows of (agent, day, calls, talk sum, talk count, handle sum, wrap sum, wrap count, QA sum, QA count)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * 8)
    by_day: dict[str, list[dict]] = defaultdict(list)
    for agent, day, *values in days:
        totals = sums[agent]
        for index, value in enumerate(values):
            totals[index] += float(value)
        qa_sum, qa_count = float(values[-2]), int(values[-1])
        if qa_count:
            by_day[agent].append({"day": time.strftime("%Y-%m-%d", time.gmtime(int(day) * DAY)),
                                  "qa_score": _mean(qa_sum, qa_count)})
    reviewed: dict[str, list[float]] = defaultdict(list)
    for review in reviews:
        if review.agent_id:
            reviewed[review.agent_id].append(review.score)
    rows = []
    for agent in sorted(set(sums) | set(reviewed)):
        calls, talk, talks, handle, wrap, wraps, qa, qas = sums[agent] if agent in sums else [0.0] * 8
        scores = reviewed.get(agent, [])
        rows.append({
            "agent_id": agent, "calls_handled": int(calls), "aht_seconds": _mean(handle, int(talks)),
            "talk_seconds": _mean(talk, int(talks)), "wrap_up_seconds": _mean(wrap, int(wraps)),
            "qa_score": _mean(qa, int(qas)), "qa_by_day": by_day.get(agent, []),
            "reviews": len(scores), "review_score": _mean(sum(scores), len(scores)),
        })
    return rows
