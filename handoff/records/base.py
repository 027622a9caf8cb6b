"""The small interface both call-record stores (SQLite, PostgreSQL) implement."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Protocol

from handoff.records.model import CallRecord, Review, Turn


@dataclass
class CallFilter:
    """What the call list filters on; None means any."""
    since: float | None = None         # started_at >= since
    until: float | None = None         # started_at < until
    caller: str | None = None          # matches the masked number's visible digits
    intent: str | None = None
    outcome: str | None = None
    queue: str | None = None
    agent_id: str | None = None
    qa_below: float | None = None
    flagged: bool | None = None
    keyword: str | None = None         # in any turn's text
    synthetic: bool | None = False     # real calls only unless asked


@dataclass
class WindowTotals:
    """Sums over the calls that started in one window: what every KPI of that window is made of."""
    since: float
    until: float
    finished: int = 0            # calls ended (any outcome but in_progress)
    contained: int = 0           # ... that the bot finished alone
    queued: int = 0              # calls that entered a queue (in progress ones too)
    answered: int = 0            # ... that an agent answered
    answered_in_time: int = 0    # ... within the service-level threshold
    abandoned: int = 0           # ... whose caller hung up waiting
    wait_total: float = 0.0      # seconds from queue to answer, over the answered ones
    handled: int = 0             # agent legs ended (talk time known)
    handle_total: float = 0.0    # talk + wrap-up seconds over the handled ones
    escalations: dict[str, int] = field(default_factory=dict)  # queued calls by escalation reason


class CallRecordStore(Protocol):
    async def start(self, record: CallRecord) -> None: ...          # a new call (idempotent by id)

    async def add_turn(self, call_id: str, turn: Turn) -> None: ...  # appended as the call goes

    async def import_records(self, records: list[CallRecord]) -> None: ...  # finished calls in bulk (ids kept once)

    async def update(self, call_id: str, **fields) -> None: ...     # outcome, queue, agent, times, summary...

    async def get(self, call_id: str) -> CallRecord | None: ...

    async def find(self, where: CallFilter, limit: int = 100, offset: int = 0) -> list[CallRecord]: ...

    def window(self, since: float, until: float, synthetic: bool = False) -> AsyncIterator[CallRecord]: ...

    async def open_calls(self) -> list[CallRecord]: ...             # outcome in_progress (crash recovery)

    async def totals(self, since: float, until: float, service_level_seconds: float,
                     synthetic: bool = False) -> WindowTotals: ...   # KPI sums over calls started in the window

    async def agent_days(self, since: float, until: float) -> list[tuple]: ...  # agent performance sums

    async def add_review(self, review: Review) -> None: ...

    async def reviews(self, call_id: str | None = None, agent_id: str | None = None) -> list[Review]: ...

    async def close(self) -> None: ...
