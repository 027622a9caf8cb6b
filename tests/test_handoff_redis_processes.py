"""Two real processes share one Redis: every call reaches exactly one agent, with agents competing for it."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections import Counter

from handoff.acd import ACD
from handoff.model import AVAILABLE, COMPLETED, Agent, QueuedCall, QueueConfig
from handoff.store.redis_store import RedisStore
from tests import needs
from tests.conftest import ROOT

REDIS_URL = "redis://127.0.0.1:6379/15"
ROUNDS, CALLS, AGENTS = 30, 8, 4


async def set_up_round(prefix: str) -> None:
    store = RedisStore(REDIS_URL, prefix=prefix)
    await store.clear()
    acd = ACD(store, [QueueConfig("orders", "orders")], presence_timeout=3600)
    for i in range(AGENTS):
        await acd.register_agent(Agent(f"agent-{i}", skills={"orders": 5}, position=i))
        await acd.set_agent_state(f"agent-{i}", AVAILABLE)
    for i in range(CALLS):
        await acd.enqueue(QueuedCall(f"call-{i}", "orders", "orders"))
    await store.close()


async def test_two_processes_assign_each_call_exactly_once():
    needs.redis(REDIS_URL)
    run = uuid.uuid4().hex[:8]
    prefixes = [f"race:{run}:{i}" for i in range(ROUNDS)]
    for prefix in prefixes:
        await set_up_round(prefix)
    workers = [await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.acd_race_worker", REDIS_URL,
                                                    *prefixes, cwd=ROOT, stdout=subprocess.PIPE)
               for _ in range(2)]
    outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 120)
    assert all(w.returncode == 0 for w in workers)
    wins = [[json.loads(line) for line in out.decode().splitlines()] for out, _ in outputs]
    counts = Counter((w["prefix"], w["call"]) for process in wins for w in process)
    assert len(counts) == ROUNDS * CALLS and set(counts.values()) == {1}, "every call won exactly once"
    assert all(process for process in wins), "both processes won calls: they really competed"
    for prefix in prefixes:
        store = RedisStore(REDIS_URL, prefix=prefix)
        records = await store.records("call")
        assert sorted(r["id"] for r in records) == sorted(f"call-{i}" for i in range(CALLS))
        assert {r["state"] for r in records} == {COMPLETED} and all(r["agent_id"] for r in records)
        assert sum(a.calls_taken for a in await store.agents()) == CALLS
        await store.clear()
        await store.close()
