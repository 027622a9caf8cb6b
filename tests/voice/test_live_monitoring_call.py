"""Live monitoring through the real gateway: a phone caller (Twilio Media Streams, 8 kHz mu-law) asks for
a person, the agent's desk accepts over its WebSocket, and a supervisor's line joins the call.

Caller, agent and supervisor each send their own tone at once; what each receives is measured by
frequency. Listen: the supervisor hears caller and agent, nobody hears the supervisor. Whisper: the
agent hears the supervisor, the caller never does. Barge: both do.
"""
from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp

from tests.auth_support import sign_in
from tests.handoff_support import Ears
from tests.tones import AGENT_HZ, CALLER_HZ, SUPERVISOR_HZ, heard, tone
from tests.voice.conftest import CALLER
from voice_gateway.client import Caller

DESK_RATE = 16000      # desks and supervisor lines, both ways
PHONE_RATE = 8000


def phone_heard(caller: Caller) -> bytes:
    """All the audio the caller has received so far, in order."""
    return b"".join(bytes(turn.bot_audio) for turn in (caller.greeting, *caller.results))


async def send_realtime(socket, pcm16: bytes, rate: int = DESK_RATE) -> None:
    step = rate // 50 * 2
    next_at = time.monotonic()
    for start in range(0, len(pcm16), step):
        await socket.send_bytes(pcm16[start:start + step])
        next_at += 0.02
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def everyone_talks(caller: Caller, desk, supervisor, seconds: float = 1.5) -> None:
    await asyncio.gather(caller.say(tone(CALLER_HZ, seconds, PHONE_RATE), wait=False),
                         send_realtime(desk, tone(AGENT_HZ, seconds, DESK_RATE)),
                         send_realtime(supervisor, tone(SUPERVISOR_HZ, seconds, DESK_RATE)))
    await asyncio.sleep(0.8)  # what is still on its way (the phone line is paced in real time)


def session(voice_server) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=voice_server.url, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_supervisor_listens_whispers_and_barges_into_a_phone_call(voice_server):
    async with session(voice_server) as agent_http, session(voice_server) as boss_http:
        await sign_in(agent_http, "alice")
        await sign_in(boss_http, "sam")
        async with agent_http.ws_connect("/desk/ws") as desk, boss_http.ws_connect("/supervisor/ws") as line:
            agent, supervisor = Ears(desk), Ears(line)
            await agent.event("hello")
            await desk.send_json({"type": "state", "state": "available"})
            await agent.event("ack")
            async with Caller(voice_server.line("twilio"), quiet_secs=1.0).dial(f"CA{uuid.uuid4().hex}",
                                                                                 CALLER) as caller:
                call_id = await voice_server.call_id_of(caller)
                await caller.press("0", wait=False)
                offer = await agent.event("offer", timeout=30)
                assert offer["call"]["id"] == call_id
                await desk.send_json({"type": "accept", "call_id": call_id})
                await agent.event("call")
                await caller.wait_until_quiet(time.monotonic())  # "connecting you" has been played

                results = {}
                for mode in ("listen", "whisper", "barge"):
                    await line.send_json({"type": "monitor", "call_id": call_id, "mode": mode})
                    await supervisor.event("monitoring", mode=mode)
                    assert (await agent.event("supervisor", mode=mode))["name"] == "Sam Rivera"
                    marks = len(agent.audio), len(phone_heard(caller)), len(supervisor.audio)
                    await everyone_talks(caller, desk, line)
                    results[mode] = {"agent": heard(bytes(agent.audio[marks[0]:]), DESK_RATE),
                                     "caller": heard(phone_heard(caller)[marks[1]:], PHONE_RATE),
                                     "supervisor": heard(bytes(supervisor.audio[marks[2]:]), DESK_RATE)}
            ended = await supervisor.event("monitor_ended", timeout=15)  # the caller hung up
            assert ended["call_id"] == call_id

    assert results["listen"] == {"agent": {CALLER_HZ}, "caller": {AGENT_HZ}, "supervisor": {CALLER_HZ, AGENT_HZ}}
    assert results["whisper"] == {"agent": {CALLER_HZ, SUPERVISOR_HZ}, "caller": {AGENT_HZ},
                                  "supervisor": {CALLER_HZ, AGENT_HZ}}
    assert results["barge"] == {"agent": {CALLER_HZ, SUPERVISOR_HZ}, "caller": {AGENT_HZ, SUPERVISOR_HZ},
                                "supervisor": {CALLER_HZ, AGENT_HZ}}
