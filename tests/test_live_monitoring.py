"""Live monitoring across gateway processes on one Redis: the caller's leg, the agent's desk and the
supervisor's line are each served by their own handoff service on one Redis store, as separate gateway
processes are (one test puts the caller's leg in a separate OS process, ``tests/monitor_leg_worker.py``).
Every party sends its own tone.

What each party receives is measured by frequency (tests/tones.py): listen gives the supervisor the
caller and the agent; whisper adds the supervisor to what the agent hears, never to the caller; barge
adds them to both. The agent's desk is told who is on the call, and the audit log has every change.
"""
from __future__ import annotations

import asyncio
import json
import sys
import uuid

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.security.passwords import hash_password
from handoff.mixer import Mixer
from handoff.model import QueuedCall
from handoff.service import build_handoff
from handoff.store.redis_store import RedisStore
from helpline.config_schema import HelplineConfig
from helpline.security.install import install_security
from tests import needs
from tests.auth_support import sign_in
from tests.conftest import ROOT
from tests.handoff_support import RATE, Ears, RecordedCallerLeg
from tests.test_handoff_flow import login, next_event
from tests.tones import AGENT_HZ, CALLER_HZ, SUPERVISOR_HZ, heard, tone

PASSWORD = hash_password("northwind")
CONFIG = HelplineConfig.model_validate({
    "auth": {"users": [{"id": "sam", "name": "Sam Rivera", "roles": ["supervisor"], "password_hash": PASSWORD},
                       {"id": "tess", "name": "Tess Ng", "roles": ["supervisor"], "password_hash": PASSWORD}]},
    "handoff": {"queues": [{"name": "general", "strategy": "ring-all"}],
                "agents": [{"id": "alice", "password_hash": PASSWORD, "skills": {"general": 5}}]}})
FRAME = RATE // 50 * 2  # 20 ms


async def talk(bridge, call_id: str, desk, supervisor, seconds: float = 0.6) -> None:
    """All three parties send their tone at once, 20 ms frames in real time, then the bus drains.
    ``bridge`` None: the caller's leg is in another process and speaks on its own."""
    caller, agent, boss = (tone(hz, seconds, RATE) for hz in (CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ))
    for start in range(0, len(caller), FRAME):
        if bridge is not None:
            await bridge.caller_audio(call_id, caller[start:start + FRAME], RATE)
        await desk.send_bytes(agent[start:start + FRAME])
        await supervisor.send_bytes(boss[start:start + FRAME])
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)


@pytest.fixture
async def three_services(tmp_path):
    needs.redis()
    prefix = f"test:monitor:{uuid.uuid4().hex[:8]}"
    services, clients, audits = [], [], []
    for name in ("leg", "desk", "supervisor"):
        service = build_handoff(CONFIG.handoff, tmp_path / name, set(),
                                store=RedisStore("redis://127.0.0.1:6379/15", prefix))
        app = web.Application()
        service.attach(app)
        security = install_security(app, CONFIG, tmp_path / name, None, {})
        service.supervisor_line.audit = security.audit.record
        audits.append(tmp_path / name / "audit.log")
        services.append(service)
        clients.append(TestClient(TestServer(app)))
    try:
        async with clients[0], clients[1], clients[2]:
            yield services, clients, audits, prefix
    finally:
        await RedisStore("redis://127.0.0.1:6379/15", prefix).clear()


async def available_agent(desk_client):
    """Alice signed in at the desk and available for calls."""
    desk = await login(desk_client, "alice")
    await desk.send_json({"type": "state", "state": "available"})
    await next_event(desk, "ack")
    return desk


async def agent_takes(desk, call_id: str) -> None:
    await next_event(desk, "offer")
    await desk.send_json({"type": "accept", "call_id": call_id})
    await next_event(desk, "call")


async def connected_call(leg_side, desk_client, call_id: str):
    """A caller's leg on ``leg_side`` talking to Alice at her desk: (her desk socket, the leg)."""
    desk = await available_agent(desk_client)
    await leg_side.acd.enqueue(QueuedCall(call_id, "general", "general", "caller_request"))
    leg = RecordedCallerLeg(call_id)
    await leg_side.bridge.caller_joined(leg)
    await agent_takes(desk, call_id)
    await leg.wait_for(lambda: call_id in leg_side.bridge.agent_of)
    return desk, leg


async def test_listen_whisper_and_barge_reach_exactly_the_right_parties(three_services):
    (leg_side, _, _), (_, desk_client, boss_client), audits, _ = three_services
    desk, leg = await connected_call(leg_side, desk_client, "m1")
    agent = Ears(desk)

    await sign_in(boss_client, "sam")
    supervisor_socket = await boss_client.ws_connect("/supervisor/ws")
    supervisor = Ears(supervisor_socket)
    results = {}
    for mode in ("listen", "whisper", "barge"):
        await supervisor_socket.send_json({"type": "monitor", "call_id": "m1", "mode": mode})
        await supervisor.event("monitoring", mode=mode)
        shown = await agent.event("supervisor", mode=mode)
        assert (shown["name"], shown["call_id"]) == ("Sam Rivera", "m1")
        marks = len(agent.audio), len(leg.agent_audio), len(supervisor.audio)
        await talk(leg_side.bridge, "m1", desk, supervisor_socket)
        results[mode] = {"agent": heard(bytes(agent.audio[marks[0]:]), RATE),
                         "caller": heard(bytes(leg.agent_audio[marks[1]:]), RATE),
                         "supervisor": heard(bytes(supervisor.audio[marks[2]:]), RATE)}

    everyone_but_supervisor = {"agent": {CALLER_HZ}, "caller": {AGENT_HZ}, "supervisor": {CALLER_HZ, AGENT_HZ}}
    assert results["listen"] == everyone_but_supervisor
    assert results["whisper"] == {**everyone_but_supervisor, "agent": {CALLER_HZ, SUPERVISOR_HZ}}
    assert results["barge"] == {"agent": {CALLER_HZ, SUPERVISOR_HZ}, "caller": {AGENT_HZ, SUPERVISOR_HZ},
                                "supervisor": {CALLER_HZ, AGENT_HZ}}

    await supervisor_socket.send_json({"type": "stop"})
    assert (await agent.event("supervisor", mode=None))["supervisor"] == "sam"
    lines = [json.loads(line) for line in audits[2].read_text().splitlines()]
    trail = [(e["action"], e.get("mode")) for e in lines if e["action"].startswith("monitor_")]
    assert trail == [("monitor_join", "listen"), ("monitor_mode", "whisper"), ("monitor_mode", "barge"),
                     ("monitor_leave", None)]
    assert all(e["who"] == "sam" and e["call_id"] == "m1" and e["agent"] == "alice"
               for e in lines if e["action"].startswith("monitor_"))
    await supervisor_socket.close()
    await desk.close()


async def test_a_supervisor_who_asked_before_the_callers_leg_joined_is_on_the_call_once_it_does(three_services):
    """The agent accepts while the bot's last words still play (no leg yet): the request is not lost."""
    (leg_side, _, _), (_, desk_client, boss_client), _, _ = three_services
    desk = await available_agent(desk_client)
    await leg_side.acd.enqueue(QueuedCall("m2", "general", "general", "caller_request"))
    await agent_takes(desk, "m2")
    await sign_in(boss_client, "sam")
    line = await boss_client.ws_connect("/supervisor/ws")
    supervisor = Ears(line)
    await line.send_json({"type": "monitor", "call_id": "m2", "mode": "whisper"})
    await asyncio.sleep(0.3)
    assert not supervisor.events  # nobody holds the caller's leg yet

    leg = RecordedCallerLeg("m2")
    await leg_side.bridge.caller_joined(leg)
    assert (await supervisor.event("monitoring"))["mode"] == "whisper"
    await leg_side.bridge.caller_left("m2", "caller hung up")
    assert (await supervisor.event("monitor_ended"))["reason"] == "the call left the agent"
    await line.close()
    await desk.close()


async def test_the_callers_leg_in_another_os_process(three_services, tmp_path):
    """The caller's leg lives in a separate Python process (a second gateway): same parties, same rules."""
    (_, _, _), (_, desk_client, boss_client), _, prefix = three_services
    desk = await available_agent(desk_client)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.monitor_leg_worker", "redis://127.0.0.1:6379/15", prefix, str(tmp_path),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def ask(command: str) -> dict | None:
        worker.stdin.write(f"{command}\n".encode())
        await worker.stdin.drain()
        return json.loads(await asyncio.wait_for(worker.stdout.readline(), 10)) if command == "mark" else None

    try:
        assert json.loads(await asyncio.wait_for(worker.stdout.readline(), 60)) == {"joined": "p1"}
        await agent_takes(desk, "p1")
        agent = Ears(desk)
        await sign_in(boss_client, "sam")
        line = await boss_client.ws_connect("/supervisor/ws")
        supervisor = Ears(line)
        marks, results = [], {}
        for mode in ("listen", "whisper", "barge"):
            await line.send_json({"type": "monitor", "call_id": "p1", "mode": mode})
            await supervisor.event("monitoring", mode=mode)
            await agent.event("supervisor", mode=mode)
            start = len(agent.audio), (await ask("mark"))["heard"], len(supervisor.audio)
            await talk(None, "p1", desk, line)
            end = len(agent.audio), (await ask("mark"))["heard"], len(supervisor.audio)
            marks.append((mode, start[1], end[1]))
            results[mode] = {"agent": heard(bytes(agent.audio[start[0]:end[0]]), RATE),
                             "supervisor": heard(bytes(supervisor.audio[start[2]:end[2]]), RATE)}
        await ask("quit")
        assert await asyncio.wait_for(worker.wait(), 20) == 0
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    caller_heard = (tmp_path / "caller.pcm").read_bytes()
    for mode, start, end in marks:
        results[mode]["caller"] = heard(caller_heard[start:end], RATE)
    assert results["listen"] == {"agent": {CALLER_HZ}, "caller": {AGENT_HZ}, "supervisor": {CALLER_HZ, AGENT_HZ}}
    assert results["whisper"] == {"agent": {CALLER_HZ, SUPERVISOR_HZ}, "caller": {AGENT_HZ},
                                  "supervisor": {CALLER_HZ, AGENT_HZ}}
    assert results["barge"] == {"agent": {CALLER_HZ, SUPERVISOR_HZ}, "caller": {AGENT_HZ, SUPERVISOR_HZ},
                                "supervisor": {CALLER_HZ, AGENT_HZ}}
    await line.close()
    await desk.close()


async def test_a_second_supervisor_takes_over_and_the_first_is_told(three_services):
    """Tess, on the caller's own process, takes the call over from Sam (on a third): one supervisor per call."""
    (leg_side, _, _), (leg_client, desk_client, boss_client), audits, _ = three_services
    desk, leg = await connected_call(leg_side, desk_client, "m3")
    agent = Ears(desk)
    await sign_in(boss_client, "sam")
    await sign_in(leg_client, "tess")
    sam_socket = await boss_client.ws_connect("/supervisor/ws")
    tess_socket = await leg_client.ws_connect("/supervisor/ws")
    sam, tess = Ears(sam_socket), Ears(tess_socket)
    await sam_socket.send_json({"type": "monitor", "call_id": "m3", "mode": "barge"})
    await sam.event("monitoring", mode="barge")
    await tess_socket.send_json({"type": "monitor", "call_id": "m3", "mode": "listen"})
    await tess.event("monitoring", mode="listen")
    assert (await sam.event("monitor_ended"))["reason"] == "taken over by tess"
    assert (await agent.event("supervisor", mode="listen"))["name"] == "Tess Ng"
    assert leg_side.bridge.monitor.watches["m3"].supervisor == "tess"

    marks = len(leg.agent_audio), len(sam.audio)
    await talk(leg_side.bridge, "m3", desk, sam_socket)  # Sam, off the call, still talks: it goes nowhere
    assert heard(bytes(leg.agent_audio[marks[0]:]), RATE) == {AGENT_HZ}
    assert len(sam.audio) == marks[1]  # and hears nothing more
    trail = [json.loads(line) for line in audits[2].read_text().splitlines()]
    assert [(e["action"], e.get("reason")) for e in trail if e["action"].startswith("monitor_")] == [
        ("monitor_join", None), ("monitor_leave", "taken over by tess")]
    for socket in (sam_socket, tess_socket, desk):
        await socket.close()


def test_side_audio_is_mixed_into_the_main_stream_and_never_waits_longer_than_max_lag():
    mixer = Mixer(max_lag=0.1)
    side = tone(SUPERVISOR_HZ, 0.3, RATE)
    overdue = mixer.add_side(side, RATE)
    assert overdue == side[:len(side) - RATE // 10 * 2]  # the oldest 0.2 s leaves alone, in order
    main = tone(CALLER_HZ, 0.02, RATE)
    mixed = np.frombuffer(mixer.mix(main, RATE), dtype="<i2").astype(int)
    expected = np.frombuffer(main, dtype="<i2").astype(int) + np.frombuffer(side[len(overdue):][:len(main)], "<i2")
    assert np.array_equal(mixed, expected)
    rest = side[len(overdue) + len(main):]  # 80 ms still waiting
    assert mixer.mix(bytes(RATE * 2), RATE)[:len(rest)] == rest
    assert mixer.mix(main, RATE) == main  # nothing pending: the main frame passes unchanged


async def test_malformed_supervisor_commands_get_a_clear_error_and_the_line_stays_open(three_services):
    (_, _, _), (_, _, boss_client), _, _ = three_services
    await sign_in(boss_client, "sam")
    line = await boss_client.ws_connect("/supervisor/ws")
    expected = [("not json", "JSON objects with a 'type'"), ("[1]", "JSON objects with a 'type'"),
                ('{"call_id": "m9"}', "JSON objects with a 'type'"), ('{"type": "dance"}', "unknown command"),
                ('{"type": "monitor", "call_id": "m9", "mode": "spy"}', "mode is one of"),
                ('{"type": "monitor", "call_id": "m9", "mode": "listen"}', "not a call with an agent")]
    for raw, error in expected:
        await line.send_str(raw)
        while True:
            answer = await asyncio.wait_for(line.receive_json(), 5)
            if answer["type"] == "error":
                break
        assert error in answer["error"], (raw, answer)
    assert not line.closed
    await line.close()
