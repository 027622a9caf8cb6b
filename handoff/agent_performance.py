"""Per agent over a period: calls handled, average handle and wrap-up time, QA scores by day, reviews.

Read from the call records of the period (the calls agents answered) and the supervisors'
reviews; the automatic QA score of a call the agent handled counts toward their daily mean.
"""
from __future__ import annotations

import time
from collections import defaultdict

from handoff.records.model import CallRecord, Review


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def agent_performance(records: list[CallRecord], reviews: list[Review]) -> list[dict]:
    handled: dict[str, list[CallRecord]] = defaultdict(list)
    for record in records:
        if record.agent_id and record.answered_at is not None:
            handled[record.agent_id].append(record)
    reviewed: dict[str, list[Review]] = defaultdict(list)
    for review in reviews:
        if review.agent_id:
            reviewed[review.agent_id].append(review)
    rows = []
    for agent in sorted(set(handled) | set(reviewed)):
        calls = handled[agent]
        talks = [r.talk_seconds for r in calls if r.talk_seconds is not None]
        wraps = [r.wrap_up_seconds for r in calls if r.wrap_up_seconds is not None]
        handles = [r.talk_seconds + (r.wrap_up_seconds or 0.0) for r in calls if r.talk_seconds is not None]
        by_day: dict[str, list[float]] = defaultdict(list)
        for record in calls:
            if record.qa_score is not None:
                by_day[time.strftime("%Y-%m-%d", time.gmtime(record.started_at))].append(record.qa_score)
        rows.append({
            "agent_id": agent, "calls_handled": len(calls), "aht_seconds": _mean(handles),
            "talk_seconds": _mean(talks), "wrap_up_seconds": _mean(wraps),
            "qa_score": _mean([r.qa_score for r in calls if r.qa_score is not None]),
            "qa_by_day": [{"day": day, "qa_score": _mean(scores)} for day, scores in sorted(by_day.items())],
            "reviews": len(reviewed[agent]), "review_score": _mean([r.score for r in reviewed[agent]]),
        })
    return rows
