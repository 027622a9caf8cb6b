"""Every Redis client Helpline opens rides out a Redis restart: the command after it succeeds."""
from __future__ import annotations

import asyncio
import shutil

from bot.core.lock_store import RedisLockStore
from bot.redis_client import connect
from tests import needs
from tests.scale_support import PrivateRedis


async def test_a_command_after_a_redis_restart_is_retried_not_failed(tmp_path):
    if not shutil.which("redis-server"):
        needs.unavailable("redis-server (Debian's redis-server package)", needs.SERVICES_FLAG)
    server = PrivateRedis(tmp_path)
    client = connect(server.url, decode_responses=True)
    locks = RedisLockStore(server.url)
    try:
        assert await client.set("greeting", "hello")
        async with locks.lock("call-1"):
            pass
        server.stop()                    # the pooled connections are now dead
        await asyncio.sleep(0.5)
        server.start()
        assert await client.get("greeting") in ("hello", None)   # answered, not ConnectionError
        async with locks.lock("call-1"):  # the conversation lock reconnects too
            pass
    finally:
        await client.aclose()
        await locks.close()
        server.stop()
