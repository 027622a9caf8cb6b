"""One gateway process in the exactly-once test: dispatch and let agents answer, on a shared Redis.

Run as ``python -m tests.acd_race_worker REDIS_URL PREFIX...``; for each prefix
(one round: agents and calls set up by the test), it offers and accepts calls
until none are left, printing one JSON line per call it won.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys

from handoff.acd import ACD
from handoff.model import QueueConfig
from handoff.store.redis_store import RedisStore


async def play_round(url: str, prefix: str, strategy: str) -> None:
    store = RedisStore(url, prefix=prefix)
    acd = ACD(store, [QueueConfig("orders", "orders", strategy, wrap_up_time=0)], presence_timeout=3600)
    try:
        while await store.calls():
            await acd.dispatch()
            agents = await store.agents()
            random.shuffle(agents)
            for agent in agents:
                if agent.offered_call and await acd.accept(agent.offered_call, agent.id):
                    print(json.dumps({"prefix": prefix, "call": agent.offered_call, "agent": agent.id}), flush=True)
                    await acd.caller_left(agent.offered_call)
    finally:
        await store.close()


async def main(url: str, rounds: list[str]) -> None:
    for prefix in rounds:
        await play_round(url, prefix, "ring-all" if prefix.endswith(("0", "2", "4", "6", "8")) else "longest-idle-agent")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
