"""Synthetic but plausible traffic for a new deployment's reports: ``helpline demo-data``.

Every record made here has ``synthetic=True`` and an id starting ``demo-``; reports leave them out
unless asked (``--synthetic``), so they never mix with real calls. The traffic follows a contact
centre's usual shape: busy weekday mornings and early afternoons, quiet evenings and weekends. About
60 % of calls end in the bot; of those queued, the wait grows with the hour's load and callers with
less patience than their wait abandon or ask for a callback.

Each day's calls come from a random generator seeded with the day, so running it again for the same
days makes the same ids, which the store skips (``import_records`` keeps an id once): nothing is doubled.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator

from handoff.records.model import (
    ABANDONED, CALLBACK, CONTAINED, HANDED_OFF, VOICEMAIL, CallRecord, Turn,
)
from handoff.reports.periods import Calendar

# Relative weight of each hour (00..23) in a day's calls; weekends take WEEKEND_SHARE of a weekday's volume.
HOURLY = [0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2.5, 6.5, 9.5, 10.5, 9.0, 7.5, 8.0, 9.0, 8.5, 7.0, 5.5, 3.5, 2.5,
          1.5, 1.0, 0.6, 0.4]
_HOURLY_TOTAL = sum(HOURLY)
WEEKEND_SHARE = 0.45
INTENTS = [("order_status", 0.34, "contained"), ("track_parcel", 0.14, "contained"), ("faq", 0.16, "knowledge"),
           ("billing", 0.12, "queue"), ("returns", 0.1, "queue"), ("agent_request", 0.14, "queue")]
REASONS = {"billing": "pin_failed", "returns": "low_confidence", "agent_request": "agent_request"}
ARTICLES = ["shipping-times", "returns-policy", "opening-hours", "international-shipping", "gift-cards"]


@dataclass(frozen=True)
class DemoShape:
    calls_per_day: int = 300           # a weekday's calls
    queues: tuple[str, ...] = ("general",)
    agents: tuple[str, ...] = ("alice", "bob", "carol")
    handle_seconds: float = 240.0      # mean talk time


def demo_calls(first: date, end: date, calendar: Calendar, shape: DemoShape) -> Iterator[CallRecord]:
    """The calls of days ``[first, end)``, oldest first, one at a time."""
    day = first
    while day < end:
        rng = random.Random(f"helpline-demo-{day.isoformat()}")
        scale = WEEKEND_SHARE if day.weekday() >= 5 else 1.0
        midnight = calendar.day_start(day)
        number = 0
        for hour, share in enumerate(HOURLY):
            expected = shape.calls_per_day * scale * share / _HOURLY_TOTAL
            load = share / max(HOURLY)                      # 0..1: how busy this hour is
            starts = sorted(rng.uniform(0, 3600) for _ in range(_poisson(rng, expected)))
            for offset in starts:
                number += 1
                yield _call(rng, f"demo-{day.isoformat()}-{number:05d}", midnight + hour * 3600 + offset, load, shape)
        day += timedelta(days=1)


def demo_shifts(first: date, end: date, calendar: Calendar, agents: tuple[str, ...]) -> Iterator[dict]:
    """Sign-in and sign-out records of the agents: weekday shifts 08-16 and 12-20, a short weekend one."""
    day = first
    while day < end:
        midnight = calendar.day_start(day)
        for position, agent in enumerate(agents):
            if day.weekday() >= 5:
                if position % 2:
                    continue
                start, stop = 9, 15
            else:
                start, stop = (8, 16) if position % 2 == 0 else (12, 20)
            for hour, signed_in in ((start, True), (stop, False)):
                yield {"agent_id": agent, "signed_in": signed_in, "at": midnight + hour * 3600, "synthetic": True}
        day += timedelta(days=1)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _call(rng: random.Random, call_id: str, start: float, load: float, shape: DemoShape) -> CallRecord:
    intent, kind = _pick(rng)
    turns = [Turn(2.0, "bot", "Welcome to Northwind Supply. How can I help?")]
    if rng.random() < 0.08:
        turns.append(Turn(5.0, "caller", "[unclear]", fallback=True, confidence=0.2))
    turns.append(Turn(9.0, "caller", f"({intent})", intent=intent, confidence=round(rng.uniform(0.6, 0.99), 2),
                      sentiment=round(rng.uniform(-0.5, 0.8), 2)))
    record = CallRecord(call_id, rng.choice(("twilio", "twilio", "sip", "audiosocket")), start,
                        caller=f"•••••••{rng.randint(0, 9999):04d}", turns=turns, synthetic=True)
    if kind == "knowledge":
        if rng.random() < 0.8:
            turns.append(Turn(11.0, "bot", "(answer)", article=rng.choice(ARTICLES), knowledge="answered"))
        else:
            turns.append(Turn(11.0, "bot", "(no answer)", knowledge="missed"))
            kind = "queue"
            record.escalation_reason = "knowledge_miss"
    if kind != "queue" and rng.random() < 0.05:
        kind = "queue"                                      # the caller asked for a person after all
    if kind != "queue":
        record.outcome = CONTAINED if rng.random() > 0.04 else ABANDONED
        record.ended_at = start + rng.uniform(40, 150)
        return record
    record.escalation_reason = record.escalation_reason or REASONS.get(intent, "agent_request")
    record.queue = rng.choice(shape.queues)
    record.queued_at = start + rng.uniform(20, 60)
    wait = rng.expovariate(1 / (4 + 40 * load ** 2))        # waits lengthen as the hour fills
    patience = rng.expovariate(1 / 150)
    if patience < wait:
        record.outcome = rng.choices((ABANDONED, CALLBACK, VOICEMAIL), (0.75, 0.2, 0.05))[0]
        record.ended_at = record.queued_at + patience
        return record
    record.outcome = HANDED_OFF
    record.agent_id = rng.choice(shape.agents)
    record.answered_at = record.queued_at + wait
    record.agent_ended_at = record.answered_at + rng.lognormvariate(math.log(shape.handle_seconds), 0.45)
    record.ended_at = record.agent_ended_at
    record.wrap_up_seconds = round(rng.uniform(10, 60), 1)
    return record


def _pick(rng: random.Random) -> tuple[str, str]:
    roll, total = rng.random(), 0.0
    for intent, share, kind in INTENTS:
        total += share
        if roll < total:
            return intent, kind
    return INTENTS[-1][0], INTENTS[-1][2]
