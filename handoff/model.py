"""What the ACD keeps: queued calls, agents and queue definitions (Asterisk queues.conf / mod_callcenter terms).

Calls and agents are plain dataclasses stored as JSON documents, so the SQLite
and Redis stores share one shape and any gateway process can read them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, with_config

# Agent states (FreeSWITCH mod_callcenter: Available, On Break, Logged Out; plus on-call and wrap-up).
AVAILABLE, ON_CALL, WRAP_UP, AWAY, OFFLINE = "available", "on-call", "wrap-up", "away", "offline"
AGENT_STATES = (AVAILABLE, ON_CALL, WRAP_UP, AWAY, OFFLINE)

# Call states while the ACD owns the call.
WAITING, CONNECTED = "waiting", "connected"
# Final call states, kept as call records.
COMPLETED, ABANDONED, CALLBACK, VOICEMAIL, REJECTED = "completed", "abandoned", "callback", "voicemail", "rejected"
FINAL_STATES = (COMPLETED, ABANDONED, CALLBACK, VOICEMAIL, REJECTED)


@dataclass
class Agent:
    id: str
    name: str = ""
    skills: dict[str, int] = field(default_factory=dict)  # skill -> proficiency 1..10
    position: int = 0                                   # order for top-down and round-robin
    state: str = OFFLINE
    state_since: float = 0.0
    offered_call: str | None = None                     # rung, not yet answered
    offer_expires: float = 0.0
    current_call: str | None = None
    calls_taken: int = 0
    idle_since: float = 0.0                             # end of the last call (or login): longest-idle-agent
    no_answer_count: int = 0
    wrap_up_until: float = 0.0
    heartbeat: float = 0.0

    def proficiency(self, skill: str) -> int:
        return int(self.skills.get(skill, 0))

    def is_free(self) -> bool:
        return self.state == AVAILABLE and self.offered_call is None


@dataclass
class QueuedCall:
    id: str                                             # the bot's sender_id == the gateway's call_id
    queue: str
    skill: str
    reason: str = ""
    caller_number: str | None = None
    priority: int = 0                                   # higher first (VIP)
    entered_at: float = 0.0                             # first entry: time waited counts from here
    queue_entered_at: float = 0.0                       # entry into the current queue (overflow, transfer)
    head: bool = False                                  # sent back to the head (agent dropped the call)
    state: str = WAITING
    offered_to: list[str] = field(default_factory=list)
    offered_at: float = 0.0
    agent_id: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    announced_wait: float | None = None                 # estimated wait told to the caller on entry
    callback_offered: bool = False
    overflowed_from: str | None = None
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def order_key(self) -> tuple:
        """Queue order: calls sent back first, then priority, then time waited."""
        return (not self.head, -self.priority, self.entered_at)


QueueStrategy = Literal["longest-idle-agent", "round-robin", "fewest-calls", "ring-all", "top-down"]
Seconds = Annotated[float, Field(ge=0)]


@with_config(ConfigDict(extra="forbid"))
@dataclass
class QueueConfig:
    """One entry of ``helpline: handoff: queues:`` (validated by pydantic, so these defaults are the config's)."""

    name: Annotated[str, Field(min_length=1)]
    skill: str = ""                                     # the agents' skill it needs (default: the queue's name)
    strategy: QueueStrategy = "longest-idle-agent"
    # min proficiency per tier level, best first
    tiers: list[Annotated[int, Field(ge=0, le=10)]] = field(default_factory=lambda: [1])
    tier_wait: Seconds = 30.0                           # seconds before the next tier level joins in
    overflow_to: str | None = None                      # another queue, after overflow_after seconds
    overflow_after: Seconds | None = None
    max_wait: Seconds | None = None                     # then offer a callback or voicemail
    max_length: Annotated[int, Field(ge=1)] | None = None  # callers beyond this are refused
    ring_timeout: Annotated[float, Field(gt=0)] = 15.0
    wrap_up_time: Seconds = 10.0
    announce_interval: Annotated[float, Field(gt=0)] = 30.0

    def __post_init__(self) -> None:
        self.skill = self.skill or self.name

    def tier_min_proficiency(self, waited: float) -> int:
        """Tier levels open one by one as the caller waits (mod_callcenter's tier_rule_wait_second)."""
        level = min(int(waited // self.tier_wait) if self.tier_wait > 0 else len(self.tiers), len(self.tiers) - 1)
        return self.tiers[level]


def to_dict(obj: Any) -> dict:
    return dataclasses.asdict(obj)


def agent_from_dict(data: dict) -> Agent:
    return Agent(**{k: v for k, v in data.items() if k in _AGENT_FIELDS})


def call_from_dict(data: dict) -> QueuedCall:
    return QueuedCall(**{k: v for k, v in data.items() if k in _CALL_FIELDS})


_AGENT_FIELDS = {f.name for f in dataclasses.fields(Agent)}
_CALL_FIELDS = {f.name for f in dataclasses.fields(QueuedCall)}
