"""Two gateway processes on one Redis: the desk is on one, the caller's leg on the other, and they still talk."""
from __future__ import annotations

import uuid

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.security.passwords import hash_password
from handoff.model import QueuedCall
from handoff.service import build_handoff
from handoff.store.redis_store import RedisStore
from helpline.config_schema import HelplineConfig
from helpline.security.install import install_security
from tests import needs
from tests.handoff_support import RecordedCallerLeg, receive_audio, speech_pcm16, stream_speech
from tests.test_handoff_flow import login, next_event

CONFIG = HelplineConfig.model_validate({"handoff": {
    "queues": [{"name": "general", "strategy": "ring-all"}],
    "agents": [{"id": "alice", "password_hash": hash_password("northwind"), "skills": {"general": 5}}]}})


async def test_offer_and_audio_cross_between_processes(tmp_path):
    needs.redis()
    prefix = f"test:desk:{uuid.uuid4().hex[:8]}"
    services = [build_handoff(CONFIG.handoff, tmp_path / name, set(), store=RedisStore("redis://127.0.0.1:6379/15", prefix))
                for name in ("a", "b")]
    clients = []
    for service in services:
        app = web.Application()
        service.attach(app)
        install_security(app, CONFIG, tmp_path, None, {})
        clients.append(TestClient(TestServer(app)))
    desk_side, leg_side = services
    async with clients[0] as desk_client, clients[1]:
        try:
            socket = await login(desk_client, "alice")
            await socket.send_json({"type": "state", "state": "available"})
            await next_event(socket, "ack")
            await leg_side.acd.enqueue(QueuedCall("x1", "general", "general", "caller_request",
                                                  summary={"text": "Wants an agent."}))
            leg = RecordedCallerLeg("x1")
            await leg_side.bridge.caller_joined(leg)
            offer = await next_event(socket, "offer")
            assert offer["call"]["summary"]["text"] == "Wants an agent."
            await socket.send_json({"type": "accept", "call_id": "x1"})
            await next_event(socket, "call")
            await leg.wait_for(lambda: "x1" in leg_side.bridge.agent_of)

            speech = speech_pcm16()[:16000]  # half a second
            await stream_speech(leg_side.bridge, "x1", speech)
            assert await receive_audio(socket, len(speech)) == speech
            await socket.send_bytes(b"\x05\x00" * 320)
            await leg.wait_for(lambda: len(leg.agent_audio) == 640)
            await socket.close()
        finally:
            await RedisStore("redis://127.0.0.1:6379/15", prefix).clear()
