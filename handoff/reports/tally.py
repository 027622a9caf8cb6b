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
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from handoff.records.model import ABANDONED, CALLBACK, CONTAINED, IN_PROGRESS, TRANSFERRED, VOICEMAIL, CallRecord


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

    def add(self, record: CallRecord, service_level_seconds: float) -> None:
        self.calls += 1
        if record.outcome == IN_PROGRESS:
            self.in_progress += 1
            return
        outcome = record.outcome
        self.contained += outcome == CONTAINED
        self.callbacks += outcome == CALLBACK
        self.voicemails += outcome == VOICEMAIL
        self.transferred += outcome == TRANSFERRED
        if record.queued_at is not None:
            self.offered += 1
            if record.answered_at is not None:
                wait = max(0.0, record.answered_at - record.queued_at)
                self.handled += 1
                self.wait_sum += wait
                self.answered_in_time += wait <= service_level_seconds
                talk = record.talk_seconds
                if talk is not None:
                    self.ended += 1
                    self.talk_sum += talk
                    self.wrap_sum += record.wrap_up_seconds or 0.0
            elif outcome == ABANDONED:
                self.abandoned += 1
        for turn in record.turns:
            if turn.intent is not None or turn.fallback:
                self.classified_turns += 1
                self.fallback_turns += turn.fallback
            if turn.knowledge == "answered":
                self.knowledge_answers += 1
            elif turn.knowledge == "missed":
                self.knowledge_misses += 1

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
