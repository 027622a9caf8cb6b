"""Which process holds which live calls, so the calls of a process that died are closed, not left waiting.

Every process serving calls on shared Redis holds a lease (a key with a time to live, renewed every
``beat`` seconds) and lists its live calls under its own id. A process whose lease ran out is
gone (killed, crashed, its box lost): the first other process to notice claims its list and closes
each of its calls as abandoned, with the reason, in the ACD (a caller waiting in a queue is
``abandoned``; one who was talking to an agent is completed) and in the records
(``records:abandoned``), then forgets the list. Queued calls and callbacks of the other processes
are untouched: they live in Redis, not in the process that queued them. A restarted worker is a
new process with a new id.

Redis must keep what it acknowledged across its own restarts (``appendonly yes``), or a restart
loses the queues as well as the leases; docs/scaling.md.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time

from redis.exceptions import RedisError

from bot.redis_client import connect


logger = logging.getLogger(__name__)
LEASE_SECS = 10.0
BEAT_SECS = 2.0
LOST_REASON = "the process serving the call stopped"


class WorkerLease:
    def __init__(self, url: str, acd, prefix: str = "helpline:workers", lease_secs: float = LEASE_SECS,
                 beat_secs: float = BEAT_SECS):
        self.redis = connect(url, decode_responses=True)
        self.acd = acd
        self.prefix, self.lease_ms, self.beat_secs = prefix, int(lease_secs * 1000), beat_secs
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._writes: set[asyncio.Task] = set()

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # ---- this process's calls (hooks of the voice gateway) ----------------------------------------------
    def opened(self, call_id: str, info: dict) -> None:
        self._write(self.redis.hset(self._key("calls", self.id), call_id, json.dumps({**info, "at": time.time()})))

    def closed(self, call_id: str) -> None:
        self._write(self.redis.hdel(self._key("calls", self.id), call_id))

    def _write(self, command) -> None:
        async def run() -> None:
            try:
                await command
            except RedisError as error:  # the call goes on; only its entry in the list is missing
                logger.warning("live call list not updated", extra={"error": str(error)})

        task = asyncio.ensure_future(run())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    # ---- the lease and the reaper -----------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            try:
                await self.renew()
                await self.reap()
            except RedisError as error:
                logger.warning("worker lease not renewed", extra={"worker": self.id, "error": str(error)})
            await asyncio.sleep(self.beat_secs)

    async def renew(self) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("lease", self.id), str(os.getpid()), px=self.lease_ms)
            pipe.sadd(self._key("known"), self.id)
            await pipe.execute()

    async def reap(self) -> list[str]:
        """Close the calls of every process whose lease ran out; returns their call ids."""
        closed = []
        for worker in await self.redis.smembers(self._key("known")):
            if worker == self.id or await self.redis.exists(self._key("lease", worker)):
                continue
            if not await self.redis.set(self._key("reaping", worker), self.id, nx=True, px=self.lease_ms * 3):
                continue  # another process is closing them
            calls = await self.redis.hgetall(self._key("calls", worker))
            for call_id, raw in calls.items():
                await self._abandon(worker, call_id, json.loads(raw))
                closed.append(call_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key("calls", worker))
                pipe.srem(self._key("known"), worker)
                await pipe.execute()
            logger.warning("a serving process stopped; its calls were closed as abandoned",
                           extra={"worker": worker, "calls": len(calls), "by": self.id})
        return closed

    async def _abandon(self, worker: str, call_id: str, info: dict) -> None:
        state = None
        if self.acd is not None:
            state = await self.acd.caller_left(call_id, LOST_REASON)  # None: the call never reached a queue
        record = {"call_id": call_id, "worker": worker, "reason": LOST_REASON, "queue_state": state,
                  "closed_at": time.time(), **info}
        await self.redis.rpush(self._key("abandoned"), json.dumps(record))
        logger.info("call closed as abandoned", extra={"call_id": call_id, "worker": worker, "queue_state": state})

    async def abandoned(self) -> list[dict]:
        return [json.loads(raw) for raw in await self.redis.lrange(self._key("abandoned"), 0, -1)]

    async def close(self) -> None:
        """A clean stop: no calls are left (the server closed them), so the lease and the list go at once."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key("lease", self.id), self._key("calls", self.id))
                pipe.srem(self._key("known"), self.id)
                await pipe.execute()
        except RedisError:
            pass
        await self.redis.aclose()
