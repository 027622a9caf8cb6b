"""The ACD against queueing theory: simulated calls through the real ACD logic, compared with Erlang C.

    python bench/acd_erlang.py

Poisson arrivals and exponential handle times over N agents (M/M/N), in
virtual time: the ACD's clock is the simulation clock, its store is a real
SQLite file, and every call goes through ``enqueue``, ``dispatch``, ``accept``
and ``caller_left`` as in production (agents answer at once, no wrap-up). The
measured average wait and service level (answered within 20 s) are compared
with Erlang C for the same load, and the wait announced to each caller on
entry with the wait they then had. Writes bench/results/acd_erlang.json.
"""
from __future__ import annotations

import asyncio
import heapq
import math
import random
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from handoff.acd import ACD  # noqa: E402
from handoff.model import AVAILABLE, Agent, QueuedCall, QueueConfig  # noqa: E402
from handoff.reports.erlang import average_speed_of_answer, service_level, wait_probability  # noqa: E402
from handoff.store.sqlite_store import SqliteStore  # noqa: E402

SERVICE_LEVEL_SECONDS = 20.0
SCENARIOS = [  # agents, mean handle time (s), offered load in Erlangs
    {"agents": 5, "handle_time": 180.0, "erlangs": 4.0},
    {"agents": 10, "handle_time": 180.0, "erlangs": 8.5},
    {"agents": 20, "handle_time": 240.0, "erlangs": 18.0},
]
CALLS, WARM_UP, SEED = 12000, 1000, 7


def erlang_c_predictions(agents: int, erlangs: float, handle_time: float) -> dict:
    """Erlang C for the scenario, from the staff plan's own implementation (``handoff.reports.erlang``)."""
    return {"probability_of_waiting": wait_probability(erlangs, agents),
            "average_wait": average_speed_of_answer(erlangs, agents, handle_time),
            "service_level": service_level(erlangs, agents, handle_time, SERVICE_LEVEL_SECONDS)}


async def simulate(agents: int, handle_time: float, erlangs: float, calls: int, seed: int, progress) -> dict:
    rng = random.Random(seed)
    clock = [0.0]
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "acd.sqlite3")
        acd = ACD(store, [QueueConfig("orders", "orders", "longest-idle-agent", wrap_up_time=0.0)],
                  clock=lambda: clock[0], presence_timeout=math.inf, default_handle_time=handle_time)
        for i in range(agents):
            await acd.register_agent(Agent(f"agent-{i}", skills={"orders": 5}, position=i))
            await acd.set_agent_state(f"agent-{i}", AVAILABLE)
        events: list[tuple[float, int, str, str]] = []  # (time, seq, kind, call id)
        arrival_rate = erlangs / handle_time
        t = 0.0
        for i in range(calls):
            t += rng.expovariate(arrival_rate)
            heapq.heappush(events, (t, i, "arrive", f"call-{i:05d}"))
        seq = calls
        while events:
            clock[0], _, kind, call_id = heapq.heappop(events)
            if kind == "arrive":
                await acd.enqueue(QueuedCall(call_id, "orders", "orders"))
                progress.update(1)
            else:
                await acd.caller_left(call_id)
            await acd.dispatch()
            for agent in await store.agents():  # agents answer as soon as they are offered a call
                if agent.offered_call and await acd.accept(agent.offered_call, agent.id):
                    seq += 1
                    heapq.heappush(events, (clock[0] + rng.expovariate(1 / handle_time), seq, "end",
                                            agent.offered_call))
        records = sorted(await store.records("call"), key=lambda r: r["id"])[WARM_UP:]
        await store.close()
    waits = [r["answered_at"] - r["entered_at"] for r in records]
    errors = [r["announced_wait"] - w for r, w in zip(records, waits)]
    queued = [(r["announced_wait"], w) for r, w in zip(records, waits) if r["announced_wait"] > 0]
    return {
        "calls_measured": len(records),
        "average_wait": sum(waits) / len(waits),
        "service_level": sum(1 for w in waits if w <= SERVICE_LEVEL_SECONDS) / len(waits),
        "probability_of_waiting": sum(1 for w in waits if w > 1e-9) / len(waits),
        "announced_wait": {
            "mean_absolute_error_s": sum(abs(e) for e in errors) / len(errors),
            "mean_error_s": sum(errors) / len(errors),
            "callers_told_they_would_wait": len(queued),
            "mean_announced_s_when_queued": sum(a for a, _ in queued) / len(queued) if queued else 0.0,
            "mean_actual_s_when_queued": sum(w for _, w in queued) / len(queued) if queued else 0.0,
        },
    }


async def main() -> None:
    results = []
    with tqdm(total=CALLS * len(SCENARIOS), unit="call", desc="simulating") as progress:
        for scenario in SCENARIOS:
            measured = await simulate(scenario["agents"], scenario["handle_time"], scenario["erlangs"], CALLS, SEED,
                                      progress)
            theory = erlang_c_predictions(scenario["agents"], scenario["erlangs"], scenario["handle_time"])
            results.append({**scenario, "occupancy": scenario["erlangs"] / scenario["agents"],
                            "measured": measured, "erlang_c": theory})
            tqdm.write(f"N={scenario['agents']} A={scenario['erlangs']}: wait {measured['average_wait']:.1f} s "
                       f"(Erlang C {theory['average_wait']:.1f} s), SL {measured['service_level']:.3f} "
                       f"(Erlang C {theory['service_level']:.3f}), announced-wait MAE "
                       f"{measured['announced_wait']['mean_absolute_error_s']:.1f} s")
    path = write_result("acd_erlang.json", {
        "command": "python bench/acd_erlang.py", "calls_per_scenario": CALLS, "warm_up_calls_dropped": WARM_UP,
        "seed": SEED, "service_level_seconds": SERVICE_LEVEL_SECONDS, "scenarios": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main())
