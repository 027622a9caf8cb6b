"""A CallRecordStore kept in a dict: the report tests' stand-in until a real store is at hand.

It implements the interface of ``handoff.records.base`` literally (window: ``since <= started_at <
until``, synthetic calls only when asked for, real ones otherwise) and nothing more.
"""
from __future__ import annotations

import copy
from typing import AsyncIterator

from handoff.records.base import CallFilter
from handoff.records.model import IN_PROGRESS, CallRecord, Turn


class MemoryRecordStore:
    def __init__(self) -> None:
        self.records: dict[str, CallRecord] = {}

    async def start(self, record: CallRecord) -> None:
        self.records.setdefault(record.id, copy.deepcopy(record))

    async def add_turn(self, call_id: str, turn: Turn) -> None:
        self.records[call_id].turns.append(turn)

    async def update(self, call_id: str, **fields) -> None:
        for name, value in fields.items():
            setattr(self.records[call_id], name, value)

    async def get(self, call_id: str) -> CallRecord | None:
        return copy.deepcopy(self.records.get(call_id))

    async def find(self, where: CallFilter, limit: int = 100, offset: int = 0) -> list[CallRecord]:
        found = [r for r in self._sorted() if (where.synthetic is None or r.synthetic == where.synthetic)
                 and (where.since is None or r.started_at >= where.since)
                 and (where.until is None or r.started_at < where.until)]
        return found[offset:offset + limit]

    async def window(self, since: float, until: float, synthetic: bool = False) -> AsyncIterator[CallRecord]:
        for record in self._sorted():
            if since <= record.started_at < until and record.synthetic == synthetic:
                yield copy.deepcopy(record)

    async def open_calls(self) -> list[CallRecord]:
        return [r for r in self._sorted() if r.outcome == IN_PROGRESS]

    async def close(self) -> None:
        pass

    def _sorted(self) -> list[CallRecord]:
        return sorted(self.records.values(), key=lambda r: r.started_at)
