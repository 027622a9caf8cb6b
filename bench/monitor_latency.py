"""Live monitoring latency: what a supervisor hears of a call, and how soon a whisper reaches the agent.

    python bench/monitor_latency.py [--frames 500]

The caller's leg, the agent's desk and the supervisor's line are served by three handoff services on
one Redis (127.0.0.1:6379), so every frame crosses Redis pub/sub as between the processes of a site
(here the three aiohttp servers share one event loop); and, for comparison, by one service on the
local bus (SQLite store). The caller sends 20 ms frames in real time through the bridge, as the gateway does.

- listen: a caller frame enters the bridge -> the supervisor's WebSocket has it (mixed with the agent);
- whisper: the supervisor's WebSocket sends a frame -> the agent's desk WebSocket has it, mixed into
  the caller's next frame (so up to one frame, 20 ms, of waiting is part of the figure).

Writes bench/results/monitor_latency.json.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.acd_latency import percentiles  # noqa: E402
from bench.common import write_result  # noqa: E402
from bot.security.passwords import hash_password  # noqa: E402
from handoff.model import QueuedCall  # noqa: E402
from handoff.service import build_handoff  # noqa: E402
from handoff.store.redis_store import RedisStore  # noqa: E402
from helpline.config_schema import HelplineConfig  # noqa: E402
from helpline.security.install import install_security  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = hash_password("northwind")
CONFIG = HelplineConfig.model_validate({
    "auth": {"users": [{"id": "sam", "name": "Sam", "roles": ["supervisor"], "password_hash": PASSWORD}]},
    "handoff": {"queues": [{"name": "general", "strategy": "ring-all"}],
                "agents": [{"id": "alice", "password_hash": PASSWORD, "skills": {"general": 5}}]}})
FRAME = 640  # 20 ms at 16 kHz


def marked(value: int, first: int | None = None) -> bytes:
    """A caller frame: every sample ``value``; a supervisor frame (``first``): ``first``, then silence.
    Mixed, sample 1 names the caller's frame and sample 0 minus sample 1 the supervisor's."""
    samples = np.full(FRAME // 2, value if first is None else 0, dtype="<i2")
    if first is not None:
        samples[0] = first
    return samples.tobytes()


def session(url: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1 keeps its cookie


async def serve(service, data_dir: Path):
    app = web.Application()
    service.attach(app)
    install_security(app, CONFIG, data_dir, None, {})
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


async def measure(redis: bool, tmp: Path, frames: int, progress) -> dict:
    prefix = f"bench:monitor:{uuid.uuid4().hex[:8]}"
    count = 3 if redis else 1
    services = [build_handoff(CONFIG.handoff, tmp / f"{redis}-{i}", set(),
                              store=RedisStore(REDIS_URL, prefix) if redis else None) for i in range(count)]
    served = [await serve(service, tmp / f"{redis}-{i}") for i, service in enumerate(services)]
    leg_side = services[0]
    desk_url, line_url = served[-2 if redis else 0][1], served[-1][1]
    from tests.handoff_support import RecordedCallerLeg  # the same stand-in leg as the tests
    listen, whisper = [], []
    try:
        async with session(desk_url) as agent_http, session(line_url) as boss_http:
            await agent_http.post("/auth/login", json={"username": "alice", "password": "northwind"})
            await boss_http.post("/auth/login", json={"username": "sam", "password": "northwind"})
            async with agent_http.ws_connect("/desk/ws") as desk, boss_http.ws_connect("/supervisor/ws") as line:
                await until(desk, "hello")
                await desk.send_json({"type": "state", "state": "available"})
                await until(desk, "ack")
                await leg_side.acd.enqueue(QueuedCall("b1", "general", "general", "caller_request"))
                leg = RecordedCallerLeg("b1")
                await leg_side.bridge.caller_joined(leg)
                await until(desk, "offer")
                await desk.send_json({"type": "accept", "call_id": "b1"})
                await until(desk, "call")
                await leg.wait_for(lambda: "b1" in leg_side.bridge.agent_of)
                await line.send_json({"type": "monitor", "call_id": "b1", "mode": "whisper"})
                await until(line, "monitoring")
                sent_by_supervisor, sent_by_caller = {}, {}
                listen_reader = asyncio.create_task(read(line, sent_by_caller, listen, lambda s: s[1]))
                whisper_reader = asyncio.create_task(read(desk, sent_by_supervisor, whisper, lambda s: s[0] - s[1]))
                next_at = time.perf_counter()
                for i in range(1, frames + 1):
                    sent_by_supervisor[i] = time.perf_counter()
                    await line.send_bytes(marked(i, first=i))
                    await asyncio.sleep(0.01)
                    sent_by_caller[i] = time.perf_counter()
                    await leg_side.bridge.caller_audio("b1", marked(i), 16000)
                    next_at += 0.02
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                    progress.update(1)
                await asyncio.sleep(1.0)
                listen_reader.cancel()
                whisper_reader.cancel()
    finally:
        for runner, _ in served:
            await runner.cleanup()
        if redis:
            await RedisStore(REDIS_URL, prefix).clear()
    return {"frames_sent": frames, "listen": percentiles(listen[10:]), "whisper": percentiles(whisper[10:])}


async def read(socket, sent: dict[int, float], latencies: list[float], marker) -> None:
    """Each frame's arrival time against when its marker was sent (a marker counts once)."""
    seen = set()
    async for message in socket:
        if message.type != aiohttp.WSMsgType.BINARY:
            continue
        mark = int(marker(np.frombuffer(message.data, dtype="<i2").astype(int)))
        if mark in sent and mark not in seen:
            seen.add(mark)
            latencies.append(time.perf_counter() - sent[mark])


async def until(socket, kind: str) -> dict:
    while True:
        event = await asyncio.wait_for(socket.receive_json(), 10)
        if event["type"] == kind:
            return event


async def main(frames: int) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp, tqdm(total=2 * frames, unit="frame", desc="monitoring") as progress:
        for name, redis in (("one_process", False), ("redis_three_services", True)):
            results[name] = await measure(redis, Path(tmp), frames, progress)
            tqdm.write(f"{name}: listen p50 {results[name]['listen']['p50_ms']} ms, "
                       f"whisper p50 {results[name]['whisper']['p50_ms']} ms")
    path = write_result("monitor_latency.json", {
        "command": f"python bench/monitor_latency.py --frames {frames}",
        "what": "listen: caller frame into the bridge -> supervisor WebSocket; whisper: supervisor WebSocket "
                "frame -> agent desk WebSocket (mixed into the next caller frame, sent 10 ms later); each "
                "party's WebSocket on its own aiohttp server", **results})
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500)
    asyncio.run(main(parser.parse_args().frames))
