"""One pass over the call records of a window: totals, periods, queues, agents, the traffic pattern.

A call belongs to the window, a period and an hour of the pattern by its ``started_at`` alone: a
call that started at 23:58 on the window's last day counts wholly in that day, with its answer and
talk time after midnight; one that started before the window is not counted, even if it was
answered inside it. Figures of calls still in progress count them as calls only (``tally.py``).

The calls come one at a time, as records from the store's ``window()`` or, on the SQL stores, as
columns and turn counts (``sql_source``), and are folded into counters as they come, so the memory
a report needs grows with the number of periods, queues, agents and intents, never with the number
of calls.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from handoff.records.base import CallRecordStore
from handoff.records.model import IN_PROGRESS, CallRecord, turn_counts
from handoff.reports.periods import BY, Calendar, days_by_weekday
from handoff.reports.tally import Tally

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP = 10


@dataclass
class ReportBuilder:
    first: date
    end: date                               # the first day not reported
    by: str = "day"
    tz: str = "UTC"
    service_level_seconds: float = 20.0
    synthetic: bool = False
    totals: Tally = field(default_factory=Tally)
    periods: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    queues: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    agents: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    pattern: dict[tuple[int, int], Tally] = field(default_factory=lambda: defaultdict(Tally))  # (weekday, hour)
    reasons: Counter = field(default_factory=Counter)
    intents: Counter = field(default_factory=Counter)
    articles: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.by not in BY:
            raise ValueError(f"--by must be one of {', '.join(BY)}, not {self.by!r}")
        self.calendar = Calendar(self.tz)
        self.since, self.until = self.calendar.window(self.first, self.end)

    def add(self, record: CallRecord) -> None:
        """One call record, turns and all."""
        if not self.add_call(record.started_at, record.outcome, record.queue, record.agent_id, record.queued_at,
                             record.answered_at, record.agent_ended_at, record.wrap_up_seconds,
                             record.escalation_reason) or record.outcome == IN_PROGRESS:
            return
        self.add_turns(record.started_at, *turn_counts(record.turns))
        for turn in record.turns:
            if turn.intent is not None:
                self.intents[turn.intent] += 1
            if turn.knowledge == "answered" and turn.article:
                self.articles[turn.article] += 1

    def add_call(self, started_at: float, outcome: str, queue: str | None, agent_id: str | None,
                 queued_at: float | None, answered_at: float | None, agent_ended_at: float | None,
                 wrap_up_seconds: float | None, escalation_reason: str | None) -> bool:
        """Count one call in every row it belongs to; False (nothing counted) when it started outside the window."""
        if not self.since <= started_at < self.until:
            return False  # the store's window should not send it; the definition is kept here either way
        args = (outcome, queued_at, answered_at, agent_ended_at, wrap_up_seconds, self.service_level_seconds)
        for tally in self._tallies(started_at, queue, agent_id):
            tally.add_call(*args)
        if queued_at is not None:
            self.reasons[escalation_reason or "unknown"] += 1
        return True

    def add_turns(self, started_at: float, classified: int, fallbacks: int, answers: int, misses: int) -> None:
        """Turn counts (``turn_counts``) of finished calls that started at ``started_at`` (or in its quarter hour).

        They measure the bot's part of the call, so they count for the window, its periods and the
        pattern, not per queue or agent (whose rows show the agents' part)."""
        if self.since <= started_at < self.until:
            for tally in self._tallies(started_at, None, None):
                tally.add_turns(classified, fallbacks, answers, misses)

    def _tallies(self, started_at: float, queue: str | None, agent_id: str | None) -> list[Tally]:
        place = self.calendar.place(started_at)
        tallies = [self.totals, self.periods[getattr(place, self.by)], self.pattern[(place.weekday, place.hour_of_day)]]
        if queue:
            tallies.append(self.queues[queue])
        if agent_id:
            tallies.append(self.agents[agent_id])
        return tallies

    def result(self) -> dict:
        """The report as plain data (what ``--format json`` prints and the page draws)."""
        days = days_by_weekday(self.first, self.end)
        return {
            "window": {"from": self.first.isoformat(), "to": self.end.isoformat(), "by": self.by, "tz": self.tz,
                       "days": sum(days), "service_level_seconds": self.service_level_seconds,
                       "synthetic": self.synthetic},
            "totals": self.totals.figures(),
            "periods": [{"period": key, **self.periods[key].figures()} for key in sorted(self.periods)],
            "queues": _rows("queue", self.queues),
            "agents": _rows("agent", self.agents),
            "escalation_reasons": [{"reason": r, "calls": n} for r, n in self.reasons.most_common()],
            "intents": _top("intent", "turns", self.intents, self.totals.classified_turns),
            "articles": _top("article", "answers", self.articles, self.totals.knowledge_answers),
            "hour_of_day": self._hours(sum(days)),
            "day_of_week": self._weekdays(days),
        }

    def _hours(self, days: int) -> list[dict]:
        rows = []
        for hour in range(24):
            tally = Tally()
            for weekday in range(7):
                if (weekday, hour) in self.pattern:
                    tally.merge(self.pattern[(weekday, hour)])
            rows.append({"hour": hour, **_per_day(tally, days)})
        return rows

    def _weekdays(self, days: list[int]) -> list[dict]:
        rows = []
        for weekday, name in enumerate(WEEKDAYS):
            tally = Tally()
            for hour in range(24):
                if (weekday, hour) in self.pattern:
                    tally.merge(self.pattern[(weekday, hour)])
            rows.append({"day": name, **_per_day(tally, days[weekday])})
        return rows


def _per_day(tally: Tally, days: int) -> dict:
    """Average calls and offered calls per day of this kind (e.g. per Monday), with AHT and service level."""
    figures = tally.figures()
    return {"calls_per_day": round(tally.calls / days, 2) if days else None,
            "offered_per_day": round(tally.offered / days, 2) if days else None,
            "aht_seconds": figures["aht_seconds"], "service_level": figures["service_level"],
            "abandonment_rate": figures["abandonment_rate"], "calls": tally.calls, "offered": tally.offered}


def _rows(name: str, tallies: dict[str, Tally]) -> list[dict]:
    return [{name: key, **tallies[key].figures()} for key in sorted(tallies)]


def _top(name: str, unit: str, counts: Counter, whole: int) -> list[dict]:
    return [{name: key, unit: n, "share": round(n / whole, 4) if whole else None}
            for key, n in counts.most_common(TOP)]


async def build_report(store: CallRecordStore, first: date, end: date, by: str = "day", tz: str = "UTC",
                       service_level_seconds: float = 20.0, synthetic: bool = False) -> dict:
    """The report of ``[first, end)``: real calls, or with ``synthetic`` the demo's synthetic ones."""
    from handoff.reports.sql_source import feed_from_sql

    builder = ReportBuilder(first, end, by, tz, service_level_seconds, synthetic)
    if not await feed_from_sql(store, builder):
        async for record in store.window(builder.since, builder.until, synthetic):
            builder.add(record)
    return builder.result()
