"""One record per call, bot-only or handed off: what supervisors look back on.

The record is the single copy of a call's history that reports, the call list,
quality checks and KPIs read (no second copy per feature). It is written as the
call goes (a crash loses at most the current turn) and closed with an outcome.
Texts in it are already masked (``bot.security.pii``); the caller's number is
kept only in its masked form.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Outcomes, in the vocabulary of contact-centre reporting.
CONTAINED = "contained"        # the bot finished the call without a person
HANDED_OFF = "handed_off"      # an agent answered it
ABANDONED = "abandoned"        # the caller hung up while waiting (or the line died)
CALLBACK = "callback"          # the caller chose a callback instead of waiting
VOICEMAIL = "voicemail"        # the caller left a voicemail
TRANSFERRED = "transferred"    # sent on to another PBX (SIP transfer)
IN_PROGRESS = "in_progress"    # not ended yet
OUTCOMES = (CONTAINED, HANDED_OFF, ABANDONED, CALLBACK, VOICEMAIL, TRANSFERRED, IN_PROGRESS)


@dataclass
class Turn:
    """One line of the call: who spoke, when (seconds from the call's start), and the bot's decisions."""
    at: float
    speaker: str                       # "caller", "bot" or "agent"
    text: str                          # masked
    intent: str | None = None
    confidence: float | None = None
    actions: list[str] = field(default_factory=list)
    article: str | None = None         # knowledge article answered from
    knowledge: str | None = None       # "answered" or "missed" when the knowledge retriever was asked
    fallback: bool = False
    sentiment: float | None = None     # -1 (negative) .. 1 (positive), caller turns only
    barge_in: bool = False             # the caller spoke over the bot
    sensitive: bool = False            # a PIN / date-of-birth turn (its text is masked)
    slots: dict[str, Any] = field(default_factory=dict)  # slots the bot set in this turn (masked)


@dataclass
class CallRecord:
    id: str
    channel: str                       # "twilio", "pcm", "audiosocket", "sip", "rest"
    started_at: float                  # epoch seconds
    caller: str = ""                   # masked number, e.g. "•••••••1234"
    ended_at: float | None = None
    outcome: str = IN_PROGRESS
    turns: list[Turn] = field(default_factory=list)
    escalation_reason: str | None = None
    queue: str | None = None
    agent_id: str | None = None
    queued_at: float | None = None     # entered the queue
    answered_at: float | None = None   # an agent answered
    agent_ended_at: float | None = None
    wrap_up_seconds: float | None = None
    summary: dict[str, Any] | None = None   # the handoff summary the desk showed
    notes: str = ""                    # the agent's notes
    recordings: dict[str, str] = field(default_factory=dict)  # leg ("caller", "bot", "agent") -> file name
    qa_score: float | None = None      # automatic scorecard, 0..100
    qa_flags: list[str] = field(default_factory=list)
    synthetic: bool = False            # made by ``helpline demo-data``; never mixed into real reports

    @property
    def wait_seconds(self) -> float | None:
        if self.queued_at is None:
            return None
        end = self.answered_at or (self.ended_at if self.outcome != HANDED_OFF else None)
        return None if end is None else max(0.0, end - self.queued_at)

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None or self.agent_ended_at is None:
            return None
        return max(0.0, self.agent_ended_at - self.answered_at)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CallRecord":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["turns"] = [Turn(**{k: v for k, v in t.items() if k in _TURN_FIELDS}) for t in data.get("turns", [])]
        return cls(**values)


_TURN_FIELDS = {f.name for f in dataclasses.fields(Turn)}


def turn_counts(turns: list[Turn]) -> tuple[int, int, int, int]:
    """Classified turns (an intent, or a fallback), fallbacks, knowledge answers and misses of one call.

    The report's bot figures add these up; the SQL stores keep them per call as columns, so a report
    never reads the turns' JSON."""
    classified = fallbacks = answers = misses = 0
    for turn in turns:
        if turn.intent is not None or turn.fallback:
            classified += 1
            fallbacks += bool(turn.fallback)
        answers += turn.knowledge == "answered"
        misses += turn.knowledge == "missed"
    return classified, fallbacks, answers, misses


@dataclass
class Review:
    """A supervisor's scoring of one call on the scorecard, with comments; the agent sees it on the desk."""
    id: str
    call_id: str
    reviewer: str
    at: float
    score: float                       # 0..100, from the checks
    checks: dict[str, bool] = field(default_factory=dict)   # scorecard check -> passed
    comments: str = ""
    agent_id: str | None = None        # the agent who handled the call (their reviews on the desk)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
