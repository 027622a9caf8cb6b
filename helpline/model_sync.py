"""Every server process serves the same model version: the active version is published and followed.

On one machine the registry file is the channel: each process reads its ``active`` every second. With
a shared Redis (``handoff.store: redis://...``, where queues and sessions already live) the active
version is also a Redis key and a pub/sub message, so processes on several machines that share the
models folder switch together; a process that missed a message catches up from the key.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import AsyncIterator, Protocol

from bot.model_registry import ModelRegistry, RegistryError
from helpline.settings import Settings

logger = logging.getLogger(__name__)
DEFAULT_PREFIX = "helpline"


class VersionChannel(Protocol):
    async def current(self) -> str | None: ...

    async def publish(self, version: str) -> None: ...

    def changes(self) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...


class FileChannel:
    """The registry file itself (already written by whoever activated a version)."""

    def __init__(self, registry: ModelRegistry, interval: float = 1.0):
        self.registry = registry
        self.interval = interval

    async def current(self) -> str | None:
        return await asyncio.to_thread(lambda: self.registry.active)

    async def publish(self, version: str) -> None:
        return None

    async def changes(self) -> AsyncIterator[str]:
        while True:
            await asyncio.sleep(self.interval)
            try:
                version = await self.current()
            except RegistryError as error:
                logger.error("model registry unreadable", extra={"error": str(error)})
                continue
            if version:
                yield version

    async def close(self) -> None:
        return None


class RedisChannel:
    """``<prefix>:models:active`` holds the version; ``<prefix>:models:activated`` announces a switch."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, poll_interval: float = 5.0):
        from bot.redis_client import connect

        self.redis = connect(url, decode_responses=True)
        self.key = f"{prefix}:models:active"
        self.channel = f"{prefix}:models:activated"
        self.poll_interval = poll_interval

    async def current(self) -> str | None:
        return await self.redis.get(self.key)

    async def publish(self, version: str) -> None:
        await self.redis.set(self.key, version)
        await self.redis.publish(self.channel, version)

    async def changes(self) -> AsyncIterator[str]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll_interval)
                version = message["data"] if message else await self.current()
                if version:
                    yield version
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self.redis.aclose()


def version_channel(shared_store: str | None, registry: ModelRegistry, prefix: str = DEFAULT_PREFIX) -> VersionChannel:
    """Redis when the site shares its state there, else the registry file."""
    if shared_store and shared_store.startswith("redis://"):
        return RedisChannel(shared_store, prefix)
    return FileChannel(registry)


def shared_store_url(settings: Settings) -> str | None:
    """The site's shared store as the handoff module reads it (``handoff.store``, env HELPLINE_HANDOFF_STORE)."""
    return os.environ.get("HELPLINE_HANDOFF_STORE", settings.config.handoff.store)
