"""The small interface both call-record stores (SQLite, PostgreSQL) implement."""
from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol

from handoff.records.model import CallRecord, Turn


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


class CallRecordStore(Protocol):
    async def start(self, record: CallRecord) -> None: ...          # a new call (idempotent by id)

    async def add_turn(self, call_id: str, turn: Turn) -> None: ...  # appended as the call goes

    async def update(self, call_id: str, **fields) -> None: ...     # outcome, queue, agent, times, summary...

    async def get(self, call_id: str) -> CallRecord | None: ...

    async def find(self, where: CallFilter, limit: int = 100, offset: int = 0) -> list[CallRecord]: ...

    def window(self, since: float, until: float, synthetic: bool = False) -> AsyncIterator[CallRecord]: ...

    async def open_calls(self) -> list[CallRecord]: ...             # outcome in_progress (crash recovery)

    async def close(self) -> None: ...
