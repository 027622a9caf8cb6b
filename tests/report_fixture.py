"""A small set of calls whose report figures were worked out by hand (see test_reports.py).

Window 2026-11-02 .. 2026-11-04 (two UTC days, Monday and Tuesday); service level threshold 20 s.
Calls 8 and 9 sit just outside the window's edges, call 7 starts inside and ends after midnight.
"""
from __future__ import annotations

from datetime import datetime, timezone

from handoff.records.model import (
    ABANDONED, CALLBACK, CONTAINED, HANDED_OFF, IN_PROGRESS, CallRecord, Turn,
)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def handled(call_id: str, start: float, queue: str, agent: str, queued: float, wait: float, talk: float,
            wrap: float | None, reason: str, turns: list[Turn] | None = None) -> CallRecord:
    answered = start + queued + wait
    return CallRecord(call_id, "twilio", start, ended_at=answered + talk, outcome=HANDED_OFF, turns=turns or [],
                      escalation_reason=reason, queue=queue, agent_id=agent, queued_at=start + queued,
                      answered_at=answered, agent_ended_at=answered + talk, wrap_up_seconds=wrap)


def fixture_records() -> list[CallRecord]:
    c1 = CallRecord("c1", "twilio", at(2, 9), ended_at=at(2, 9, 2), outcome=CONTAINED, turns=[
        Turn(1.0, "caller", "where is my order", intent="order_status", confidence=0.9),
        Turn(2.0, "bot", "It ships tomorrow", article="shipping-times", knowledge="answered")])
    c2 = handled("c2", at(2, 9, 10), "sales", "alice", 60, 15, 300, 30, "agent_request", turns=[
        Turn(1.0, "caller", "my order", intent="order_status", confidence=0.8),
        Turn(5.0, "caller", "a person please", intent="agent_request", confidence=0.95)])
    c3 = handled("c3", at(2, 9, 30), "sales", "bob", 30, 40, 200, 20, "pin_failed")
    c4 = CallRecord("c4", "twilio", at(2, 10, 5), ended_at=at(2, 10, 5, 50), outcome=ABANDONED,
                    escalation_reason="agent_request", queue="support", queued_at=at(2, 10, 5, 20))
    c5 = CallRecord("c5", "twilio", at(2, 10, 20), ended_at=at(2, 10, 21, 40), outcome=CALLBACK,
                    escalation_reason="agent_request", queue="support", queued_at=at(2, 10, 20, 10))
    c6 = CallRecord("c6", "pcm", at(2, 10, 40), ended_at=at(2, 10, 42), outcome=CONTAINED, turns=[
        Turn(1.0, "caller", "blorp", fallback=True),
        Turn(4.0, "caller", "do you ship to mars", intent="faq", confidence=0.7),
        Turn(5.0, "bot", "I don't know that one", knowledge="missed")])
    c7 = handled("c7", at(2, 23, 59, 30), "support", "alice", 20, 10, 120, None, "complaint")
    c8 = handled("c8", at(1, 23, 59), "sales", "bob", 30, 5, 100, 10, "agent_request")     # before the window
    c9 = CallRecord("c9", "twilio", at(4, 0), ended_at=at(4, 0, 1), outcome=CONTAINED)   # at its end: outside
    c10 = CallRecord("c10", "twilio", at(3, 8), outcome=IN_PROGRESS)
    c11 = CallRecord("c11", "twilio", at(3, 12), ended_at=at(3, 12, 1), outcome=ABANDONED)  # hung up on the bot
    c12 = handled("c12", at(3, 13), "sales", "bob", 10, 100, 100, 10, "agent_request")
    c12.synthetic = True
    c13 = handled("c13", at(3, 14), "sales", "bob", 10, 5, 100, 10, "pin_failed")
    return [c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13]
