"""The small interface every ACD store implements, and the in-process event bus SQLite uses."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Protocol

from handoff.model import Agent, QueuedCall

# Mutates the call and/or agent in place; returns False to change nothing.
Change = Callable[[QueuedCall | None, Agent | None], bool]


class ACDStore(Protocol):
    async def save_call(self, call: QueuedCall) -> None: ...

    async def get_call(self, call_id: str) -> QueuedCall | None: ...

    async def calls(self) -> list[QueuedCall]: ...          # calls the ACD still owns (waiting or connected)

    async def save_agent(self, agent: Agent) -> None: ...

    async def get_agent(self, agent_id: str) -> Agent | None: ...

    async def agents(self) -> list[Agent]: ...

    async def update(self, call_id: str | None, agent_id: str | None, change: Change) -> bool:
        """Atomically read the call and agent, apply ``change``, write both back (all processes see one winner).

        A call left in a final state (completed, abandoned, ...) leaves the live set and becomes a call record.
        """

    async def get_meta(self, key: str): ...

    async def set_meta(self, key: str, value) -> None: ...

    async def add_record(self, kind: str, data: dict) -> None: ...   # call records, callbacks, voicemails

    async def records(self, kind: str, since: float = 0.0) -> list[dict]: ...

    async def publish(self, topic: str, event: dict) -> None: ...

    def subscribe(self, topic: str) -> "AsyncIterator[asyncio.Queue]": ...

    async def close(self) -> None: ...


class LocalBus:
    """Publish/subscribe within one process (enough when one process serves the gateway and the desks)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    async def publish(self, topic: str, event: dict) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]
