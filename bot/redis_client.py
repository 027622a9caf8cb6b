"""One way to open Redis, so every store rides out a Redis restart the same way.

A restart (a second or two of refused connections) is ridden out by retrying the
command with backoff inside redis-py, instead of failing the caller's turn.
Pub/sub listeners still see the dropped connection and resubscribe themselves.
"""
from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.retry import Retry  # the asyncio one: the sync Retry never re-awaits a command
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRIES = 8          # 0.05 s doubling, capped at 1 s: about 5 s in all


def connect(url: str, **options) -> redis.Redis:
    options.setdefault("retry", Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=RETRIES))
    options.setdefault("retry_on_error", [RedisConnectionError, RedisTimeoutError])
    return redis.from_url(url, **options)
