"""Assignment latency: a call is queued while an agent is available -> the agent's desk WebSocket has the offer.

    python bench/acd_latency.py [--calls 300]

The desk server (``handoff.desk``) and the ACD loop run in one process on a
real port; the agent is a WebSocket client in the same event loop, as a browser
would be. Each sample enqueues one call (with a summary, as the bot's port
does) and waits for the ``offer`` event; the agent then accepts and ends the call
so it is free for the next. Measured on SQLite and on Redis (127.0.0.1:6379).
Writes bench/results/acd_latency.json.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from handoff.acd import ACD  # noqa: E402
from handoff.bridge import ACDAgentBridge  # noqa: E402
from handoff.desk import Desk, DeskHub  # noqa: E402
from handoff.model import Agent, QueuedCall, QueueConfig  # noqa: E402
from bot.security.passwords import hash_password  # noqa: E402
from handoff.store import create_store  # noqa: E402
from helpline.config_schema import HelplineConfig  # noqa: E402
from helpline.security.install import install_security  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
SUMMARY = {"text": "Maria (verified) asked about order 472918, then for an agent.", "intents": ["check_order_status"]}


async def measure(store_url: str, data_dir: Path, calls: int, progress) -> list[float]:
    store = create_store(store_url, data_dir)
    if hasattr(store, "clear"):
        await store.clear()
    acd = ACD(store, [QueueConfig("orders", "orders", "longest-idle-agent", wrap_up_time=0)])
    hub = DeskHub()
    app = web.Application()
    Desk(acd, hub, ACDAgentBridge(acd, hub, data_dir / "voicemail")).add_routes(app)
    users = {"handoff": {"agents": [{"id": "alice", "password_hash": hash_password("northwind")}]}}
    install_security(app, HelplineConfig.model_validate(users), data_dir, None, {})
    await acd.register_agent(Agent("alice", "Alice", {"orders": 9}))
    loop_task = asyncio.create_task(acd.run())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    latencies = []
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            await http.post("/auth/login", json={"username": "alice", "password": "northwind"})
            async with http.ws_connect("/desk/ws") as desk:
                await desk.receive_json()  # hello
                await desk.send_json({"type": "state", "state": "available"})
                await _until(desk, "ack")
                for i in range(calls):
                    started = time.perf_counter()
                    await acd.enqueue(QueuedCall(f"bench-{i}", "orders", "orders", "caller_request", summary=SUMMARY))
                    offer = await _until(desk, "offer")
                    latencies.append(time.perf_counter() - started)
                    assert offer["call"]["id"] == f"bench-{i}"
                    await desk.send_json({"type": "accept", "call_id": f"bench-{i}"})
                    await _until(desk, "ack")
                    await desk.send_json({"type": "hangup"})
                    await _until(desk, "ack")
                    progress.update(1)
    finally:
        acd.stop()
        await loop_task
        await runner.cleanup()
        if hasattr(store, "clear"):
            await store.clear()
        await store.close()
    return latencies[5:]  # the first few warm the connections and caches


async def _until(desk, kind: str) -> dict:
    while True:
        event = await asyncio.wait_for(desk.receive_json(), 10)
        if event["type"] == kind:
            return event


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"samples": len(ordered), "p50_ms": round(pick(0.50), 2), "p99_ms": round(pick(0.99), 2),
            "mean_ms": round(statistics.mean(ordered) * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2)}


async def main(calls: int) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp, tqdm(total=2 * calls, unit="call", desc="assigning") as progress:
        for name, url in (("sqlite", "sqlite"), ("redis", REDIS_URL)):
            results[name] = percentiles(await measure(url, Path(tmp) / name, calls, progress))
            tqdm.write(f"{name}: p50 {results[name]['p50_ms']} ms, p99 {results[name]['p99_ms']} ms")
    path = write_result("acd_latency.json", {"command": f"python bench/acd_latency.py --calls {calls}",
                                             "what": "acd.enqueue with an agent available -> offer on the desk "
                                                     "WebSocket", **results})
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    asyncio.run(main(parser.parse_args().calls))
