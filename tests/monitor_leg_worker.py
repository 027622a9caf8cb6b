"""A gateway process holding one caller's leg, for the monitoring test across real processes.

    python -m tests.monitor_leg_worker REDIS_URL PREFIX OUT_DIR

Builds the handoff service on the shared Redis, queues call ``p1`` and joins a caller leg to it that
sends the caller's tone in 20 ms frames in real time. Reads commands on stdin: ``mark`` answers with
how many bytes the caller has heard so far; ``quit`` writes what the caller heard (PCM16, 16 kHz) to
OUT_DIR/caller.pcm and exits.
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from handoff.model import QueuedCall
from handoff.service import build_handoff
from handoff.store.redis_store import RedisStore
from tests.handoff_support import RATE, RecordedCallerLeg
from tests.test_live_monitoring import CONFIG
from tests.tones import CALLER_HZ, tone


async def speak(bridge, call_id: str) -> None:
    second = tone(CALLER_HZ, 1.0, RATE)  # a whole number of periods: it repeats without a click
    frame = RATE // 50 * 2
    loop = asyncio.get_running_loop()
    next_at, start = loop.time(), 0
    while True:
        await bridge.caller_audio(call_id, second[start:start + frame], RATE)
        start = (start + frame) % len(second)
        next_at += 0.02
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def main(redis_url: str, prefix: str, out: Path) -> None:
    service = build_handoff(CONFIG.handoff, out, set(), store=RedisStore(redis_url, prefix))
    distributing = await service.start()
    await service.acd.enqueue(QueuedCall("p1", "general", "general", "caller_request"))
    leg = RecordedCallerLeg("p1")
    await service.bridge.caller_joined(leg)
    speaking = asyncio.create_task(speak(service.bridge, "p1"))
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"joined": "p1"}), flush=True)
    while (command := (await reader.readline()).decode().strip()) not in ("quit", ""):
        if command == "mark":
            print(json.dumps({"heard": len(leg.agent_audio)}), flush=True)
    (out / "caller.pcm").write_bytes(bytes(leg.agent_audio))
    speaking.cancel()
    service.acd.stop()
    await distributing
    await service.bridge.close()
    await service.acd.store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
