"""ACD state in Redis, shared by several gateway processes.

Calls and agents are JSON strings; ``update`` is optimistic (WATCH the call and
agent keys, MULTI/EXEC the write, retry if another process got there first), so
two processes can never both hand one call to an agent or one agent two calls.
Events go over Redis pub/sub so an agent's desk hears offers made by any process.
"""
from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

from redis.exceptions import WatchError

from bot.redis_client import connect
from handoff.model import FINAL_STATES, Agent, QueuedCall, agent_from_dict, call_from_dict, to_dict
from handoff.store.base import Change


class RedisStore:
    def __init__(self, url: str, prefix: str = "helpline:acd"):
        self.redis = connect(url, decode_responses=True)
        self.prefix = prefix

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def save_call(self, call: QueuedCall) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("call", call.id), json.dumps(to_dict(call)))
            pipe.sadd(self._key("calls"), call.id)
            await pipe.execute()

    async def get_call(self, call_id: str) -> QueuedCall | None:
        raw = await self.redis.get(self._key("call", call_id))
        return call_from_dict(json.loads(raw)) if raw else None

    async def calls(self) -> list[QueuedCall]:
        return [call_from_dict(json.loads(r)) for r in await self._all("call", "calls")]

    async def save_agent(self, agent: Agent) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("agent", agent.id), json.dumps(to_dict(agent)))
            pipe.sadd(self._key("agents"), agent.id)
            await pipe.execute()

    async def get_agent(self, agent_id: str) -> Agent | None:
        raw = await self.redis.get(self._key("agent", agent_id))
        return agent_from_dict(json.loads(raw)) if raw else None

    async def agents(self) -> list[Agent]:
        return [agent_from_dict(json.loads(r)) for r in await self._all("agent", "agents")]

    async def _all(self, kind: str, index: str) -> list[str]:
        ids = sorted(await self.redis.smembers(self._key(index)))
        if not ids:
            return []
        return [r for r in await self.redis.mget([self._key(kind, i) for i in ids]) if r]

    async def update(self, call_id: str | None, agent_id: str | None, change: Change) -> bool:
        call_key = self._key("call", call_id) if call_id else None
        agent_key = self._key("agent", agent_id) if agent_id else None
        keys = [k for k in (call_key, agent_key) if k]
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(*keys)
                    raw = dict(zip(keys, await pipe.mget(keys)))
                    call = call_from_dict(json.loads(raw[call_key])) if call_key and raw[call_key] else None
                    agent = agent_from_dict(json.loads(raw[agent_key])) if agent_key and raw[agent_key] else None
                    if not change(call, agent):
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    if call is not None:
                        if call.state in FINAL_STATES:
                            pipe.delete(call_key)
                            pipe.srem(self._key("calls"), call.id)
                            pipe.rpush(self._key("records", "call"), json.dumps(to_dict(call)))
                        else:
                            pipe.set(call_key, json.dumps(to_dict(call)))
                    if agent is not None:
                        pipe.set(agent_key, json.dumps(to_dict(agent)))
                    await pipe.execute()
                    return True
                except WatchError:
                    continue

    async def get_meta(self, key: str):
        raw = await self.redis.hget(self._key("meta"), key)
        return json.loads(raw) if raw else None

    async def set_meta(self, key: str, value) -> None:
        await self.redis.hset(self._key("meta"), key, json.dumps(value))

    async def add_record(self, kind: str, data: dict) -> None:
        await self.redis.rpush(self._key("records", kind), json.dumps({"at": time.time(), **data}))

    async def records(self, kind: str, since: float = 0.0) -> list[dict]:
        rows = [json.loads(r) for r in await self.redis.lrange(self._key("records", kind), 0, -1)]
        return [r for r in rows if (r.get("ended_at") or r.get("at") or 0) >= since]

    async def publish(self, topic: str, event: dict) -> None:
        await self.redis.publish(self._key("events", topic), json.dumps(event))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue()
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self._key("events", topic))

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    queue.put_nowait(json.loads(message["data"]))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            await pubsub.aclose()

    async def clear(self) -> None:
        """Forget everything under the prefix (tests and benchmarks start from a clean slate)."""
        keys = [k async for k in self.redis.scan_iter(match=self.prefix + ":*")]
        if keys:
            await self.redis.delete(*keys)

    async def close(self) -> None:
        await self.redis.aclose()
