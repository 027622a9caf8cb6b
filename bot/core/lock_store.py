"""Per-conversation locks: one turn of a conversation at a time, in one process or across many.

As Rasa's lock stores: ``InMemoryLockStore`` (the default) serializes a conversation's turns
within the process; ``RedisLockStore`` also across every process and box sharing one Redis, so
two workers never process one conversation at once (endpoints.yml ``lock_store: {type: redis}``).

Turns waiting in one process queue in order on a local lock first, then take the Redis lock: the
process's own order (a caller's utterances, in the order they ended) is kept, and only one
request per process polls Redis. The Redis lock is a key with the holder's token and a lifetime
(``SET NX PX``, Redis's single-instance lock): a process that dies holding it frees it when the
lifetime ends, and a holder only ever deletes its own token (a compare-and-delete script).
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.redis_client import connect

logger = logging.getLogger(__name__)
LOCK_LIFETIME_SECS = 60.0  # Rasa's default: longer than any turn, short enough to outlive a crashed holder
WAIT_SECS = 30.0  # a turn that cannot get its conversation's lock in this time fails with LockError
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class LockError(RuntimeError):
    """The conversation's lock could not be had in time (another process holds it, or Redis is gone)."""


class _LocalLocks:
    """An asyncio lock per conversation, forgotten when no turn holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class InMemoryLockStore:
    """Within one process (Rasa's default): enough when one process serves every conversation."""

    shared = False

    def __init__(self) -> None:
        self._local = _LocalLocks()

    def lock(self, conversation_id: str):
        return self._local.hold(conversation_id)

    async def close(self) -> None:
        pass


class RedisLockStore:
    """Across processes and boxes, on one Redis (Rasa's ``RedisLockStore`` settings)."""

    shared = True

    def __init__(self, url: str = "redis://127.0.0.1:6379/1", key_prefix: str = "",
                 lock_lifetime: float = LOCK_LIFETIME_SECS, wait_secs: float = WAIT_SECS,
                 socket_timeout: float = 10.0):
        self.redis = connect(url, socket_timeout=socket_timeout)
        self.prefix = f"{key_prefix}:lock:" if key_prefix else "lock:"
        self.lifetime_ms = int(lock_lifetime * 1000)
        self.wait_secs = wait_secs
        self._local = _LocalLocks()
        self._release = self.redis.register_script(_RELEASE)

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._local.hold(conversation_id):
            key = self.prefix + conversation_id
            token = secrets.token_hex(16)
            await self._acquire(key, token, conversation_id)
            try:
                yield
            finally:
                try:
                    await self._release(keys=[key], args=[token])
                except (RedisConnectionError, RedisTimeoutError):  # its lifetime frees it
                    logger.warning("conversation lock not released (Redis unreachable); it expires",
                                   extra={"sender_id": conversation_id})

    async def _acquire(self, key: str, token: str, conversation_id: str) -> None:
        deadline = time.monotonic() + self.wait_secs
        delay = 0.005
        while True:
            try:
                if await self.redis.set(key, token, nx=True, px=self.lifetime_ms):
                    return
            except (RedisConnectionError, RedisTimeoutError) as error:
                raise LockError(f"conversation '{conversation_id}': lock store unreachable ({error})") from None
            if time.monotonic() > deadline:
                raise LockError(f"conversation '{conversation_id}': still locked by another process "
                                f"after {self.wait_secs:g} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def close(self) -> None:
        await self.redis.aclose()


def create_lock_store(url: str | None, key_prefix: str = "", lock_lifetime: float = LOCK_LIFETIME_SECS):
    """``None``/``memory``: in this process; ``redis://host:port/db`` (``rediss://`` with TLS): shared."""
    if url in (None, "", "memory", "in_memory"):
        return InMemoryLockStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisLockStore(url, key_prefix, lock_lifetime)
    scheme = url.split("://", 1)[0]
    raise ValueError(f"unknown lock store '{scheme}': use memory or redis://host:port/db")
