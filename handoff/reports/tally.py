"""The running totals behind every report figure, and the figures' definitions.

One ``Tally`` per row of a report (a period, a queue, an agent, the whole window). Adding a record
only bumps counters and sums, so a report reads its records once and never holds them.

Definitions (the usual contact-centre ones; ``kpis.py``'s live figures use the same):

- calls: every call record (bot-only and handed off); in-progress calls count here only.
- IVR containment: calls the bot finished (``contained``) / finished calls.
- offered: calls that reached an agent queue (``queued_at`` set).
- handled: offered calls an agent answered.
- abandoned: offered calls whose caller hung up before an agent answered.
- service level: handled within the threshold / (handled + abandoned). Callbacks and voicemails
  left the queue by the caller's choice and count in neither.
- ASA: mean wait from joining the queue to the answer, handled calls.
- AHT: mean talk + wrap-up time of handled calls that ended.
- abandonment rate: abandoned / offered.
- fallback rate: turns the bot could not classify (``fallback``) / turns classified or not.
- knowledge answer rate: knowledge answers / (answers + misses).

The last two measure the bot's part of a call: they are counted for the window, its periods and the
hour/day pattern, not in the per-queue and per-agent rows.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from handoff.records.model import ABANDONED, CALLBACK, CONTAINED, IN_PROGRESS, TRANSFERRED, VOICEMAIL


@dataclass
class Tally:
    calls: int = 0
    in_progress: int = 0
    contained: int = 0
    offered: int = 0
    handled: int = 0
    abandoned: int = 0
    callbacks: int = 0
    voicemails: int = 0
    transferred: int = 0
    answered_in_time: int = 0
    wait_sum: float = 0.0
    ended: int = 0               # handled calls with a known talk time (AHT's denominator)
    talk_sum: float = 0.0
    wrap_sum: float = 0.0
    classified_turns: int = 0
    fallback_turns: int = 0
    knowledge_answers: int = 0
    knowledge_misses: int = 0

    def add_call(self, outcome: str, queued_at: float | None, answered_at: float | None,
                 agent_ended_at: float | None, wrap_up_seconds: float | None, service_level_seconds: float) -> None:
        """One call, from the record's columns (the turns come through ``add_turn``)."""
        self.calls += 1
        if outcome == IN_PROGRESS:
            self.in_progress += 1
            return
        if outcome == CONTAINED:
            self.contained += 1
        elif outcome == CALLBACK:
            self.callbacks += 1
        elif outcome == VOICEMAIL:
            self.voicemails += 1
        elif outcome == TRANSFERRED:
            self.transferred += 1
        if queued_at is None:
            return
        self.offered += 1
        if answered_at is not None:
            wait = answered_at - queued_at if answered_at > queued_at else 0.0
            self.handled += 1
            self.wait_sum += wait
            if wait <= service_level_seconds:
                self.answered_in_time += 1
            if agent_ended_at is not None:
                self.ended += 1
                self.talk_sum += agent_ended_at - answered_at if agent_ended_at > answered_at else 0.0
                self.wrap_sum += wrap_up_seconds or 0.0
        elif outcome == ABANDONED:
            self.abandoned += 1

    def add_turns(self, classified: int, fallbacks: int, answers: int, misses: int) -> None:
        """The turns of one finished call, as ``turn_counts`` counts them."""
        self.classified_turns += classified
        self.fallback_turns += fallbacks
        self.knowledge_answers += answers
        self.knowledge_misses += misses

    def merge(self, other: "Tally") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def figures(self) -> dict:
        """The counts and the derived KPIs (None where the denominator is zero)."""
        finished = self.calls - self.in_progress
        return {
            "calls": self.calls,
            "contained": self.contained,
            "ivr_containment": _ratio(self.contained, finished),
            "offered": self.offered,
            "handled": self.handled,
            "abandoned": self.abandoned,
            "abandonment_rate": _ratio(self.abandoned, self.offered),
            "service_level": _ratio(self.answered_in_time, self.handled + self.abandoned),
            "asa_seconds": _mean(self.wait_sum, self.handled),
            "aht_seconds": _mean(self.talk_sum + self.wrap_sum, self.ended),
            "talk_seconds": _mean(self.talk_sum, self.ended),
            "wrap_up_seconds": _mean(self.wrap_sum, self.ended),
            "callbacks": self.callbacks,
            "voicemails": self.voicemails,
            "transferred": self.transferred,
            "fallback_rate": _ratio(self.fallback_turns, self.classified_turns),
            "knowledge_answers": self.knowledge_answers,
            "knowledge_misses": self.knowledge_misses,
            "knowledge_answer_rate": _ratio(self.knowledge_answers, self.knowledge_answers + self.knowledge_misses),
            "in_progress": self.in_progress,
        }



def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


FIGURES = tuple(Tally().figures())  # the column names of every per-row table
