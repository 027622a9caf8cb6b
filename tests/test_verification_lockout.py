"""Failed PIN and date-of-birth checks counted per customer, on real SQLite and real Redis.

The store is shared by every process that opens it: two guards on one store (two server
processes of a site) see one count.
"""
from __future__ import annotations

import re
import time
import uuid

import pytest

from bot.config_model import ConfigError, validate_section
from bot.security.lockout import Lockout, LockoutPolicy, VerificationGuard
from bot.security.lockout_stores import RedisAttemptStore, SqliteAttemptStore
from tests import needs



class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request, tmp_path):
    """Opens stores on one shared place (one SQLite file, or one Redis prefix that is removed afterwards)."""
    prefix = f"test:verification:{uuid.uuid4().hex[:8]}"
    redis_url = needs.redis() if request.param == "redis" else None
    opened = []

    def open_one():
        store = SqliteAttemptStore(tmp_path / "verification.sqlite3") if request.param == "sqlite" \
            else RedisAttemptStore(redis_url, prefix)
        opened.append(store)
        return store

    yield open_one
    if request.param == "redis":
        keys = [key async for key in opened[0].redis.scan_iter(f"{prefix}:*")]
        if keys:
            await opened[0].redis.delete(*keys)
    for store in opened:
        await store.close()


async def test_failures_count_within_the_window_only(open_store):
    store, now = open_store(), time.time()
    assert await store.add_failure("C001", now - 100, window=60) == 1
    assert await store.add_failure("C001", now, window=60) == 1  # the first is older than the window
    assert await store.add_failure("C001", now + 1, window=60) == 2
    assert await store.add_failure("C002", now + 1, window=60) == 1  # per customer
    await store.clear_failures("C001")
    assert await store.add_failure("C001", now + 2, window=60) == 1


async def test_lockouts_hold_until_they_expire(open_store):
    store, now = open_store(), time.time()
    await store.lock(Lockout("C009", now + 60, 5, "call-7"))
    assert await store.lockout("C009", now) == Lockout("C009", now + 60, 5, "call-7")
    assert await store.lockout("C001", now) is None
    assert [lock.customer_id for lock in await store.lockouts(now)] == ["C009"]
    assert await store.lockout("C009", now + 61) is None
    assert await store.lockouts(now + 61) == []


async def test_two_processes_share_one_count_and_one_lockout(open_store):
    clock, alerts = Clock(), []
    policy = LockoutPolicy(max_failures=5, window_hours=24, lockout_hours=4)
    first = VerificationGuard(open_store(), policy, [alerts.append], clock)
    second = VerificationGuard(open_store(), policy, [alerts.append], clock)
    for guard in (first, second, first, second):
        assert await guard.failed("C009", "call-a") is None
    locked = await second.failed("C009", "call-b")
    assert locked is not None and locked.failures == 5 and locked.conversation_id == "call-b"
    assert locked.until == pytest.approx(clock.now + 4 * 3600)
    assert alerts == [locked]
    assert await first.lockout("C009") == locked
    assert [lock.customer_id for lock in await first.lockouts()] == ["C009"]
    clock.now += 4 * 3600 + 1
    assert await first.lockout("C009") is None


async def test_a_success_forgets_earlier_slips_and_old_slips_expire(open_store):
    clock = Clock()
    guard = VerificationGuard(open_store(), LockoutPolicy(max_failures=3, window_hours=1), clock=clock)
    await guard.failed("C001")
    await guard.failed("C001")
    await guard.passed("C001")
    assert await guard.failed("C001") is None and await guard.failed("C001") is None
    clock.now += 3601
    assert await guard.failed("C001") is None  # the two before are out of the window


async def test_a_failing_alert_does_not_stop_the_lockout(tmp_path):
    def broken(lockout):
        raise RuntimeError("pager down")

    guard = VerificationGuard(SqliteAttemptStore(tmp_path / "v.sqlite3"), LockoutPolicy(max_failures=1), [broken])
    assert await guard.failed("C001") is not None
    assert await guard.lockout("C001") is not None


@pytest.mark.parametrize("raw, message", [
    ({"max_failure": 5}, "helpline.verification.max_failure: unknown setting; did you mean 'max_failures'?"),
    ({"max_failures": 0}, "helpline.verification.max_failures: "),
    ({"max_failures": 2.5}, "helpline.verification.max_failures: "),
    ({"lockout_hours": "four"}, "helpline.verification.lockout_hours: "),
])
def test_bad_settings_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_section(LockoutPolicy, raw, "config.yml", "helpline.verification")


def test_settings_and_defaults():
    assert validate_section(LockoutPolicy, None, "config.yml", "v") == LockoutPolicy(
        max_failures=5, window_hours=24.0, lockout_hours=4.0)
    assert validate_section(LockoutPolicy, {"max_failures": 3, "lockout_hours": 0.5}, "config.yml", "v") \
        == LockoutPolicy(max_failures=3, lockout_hours=0.5)
