"""One voice server for the whole session: the demo bot, the real ASR and TTS models, real sockets.

The server runs in its own thread and event loop, so each test's client talks to it over TCP as a
phone line would. Caller audio is synthesized at 8 kHz with ``caller_voice()``: the Piper voice
with its sampled noise turned off, so a test hears the same caller audio on every run.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from aiohttp import web

from tests.conftest import ROOT

CALLER = "+15551230001"  # Maria in the demo CRM: PIN 2468


async def wait_for(condition, timeout: float = 60.0) -> None:
    """Until ``condition()`` holds. A caller handed to a queue hears hold audio without a pause, so
    waiting for the bot to go quiet would wait out the longest reply: wait for the state instead."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def queue_record(voice_server, call_id: str, timeout: float = 30.0) -> dict:
    """The ACD's record of a call that has left its queue (abandoned, transferred...), once written."""
    acd = voice_server.services.agent_bridge.acd
    deadline = time.monotonic() + timeout
    while True:
        record = next((r for r in voice_server.call(acd.store.records("call")) if r["id"] == call_id), None)
        if record is not None:
            return record
        assert time.monotonic() < deadline, f"{call_id} never left the queue"
        await asyncio.sleep(0.2)


def caller_voice():
    """Piper's joe voice without sampled noise: the same words give the same audio on every run."""
    from voice_gateway.tts import create_synthesizer

    return create_synthesizer({"engine": "piper", "threads": 1, "noise_scale": 0.0, "noise_w_scale": 0.0})


class VoiceServer:
    def __init__(self, app: web.Application):
        from voice_gateway.server import AUDIOSOCKET_PORT_KEY, SERVICES_KEY, SIP_ENDPOINT_KEY

        self.app = app
        self.services = app[SERVICES_KEY]
        self._port_key = AUDIOSOCKET_PORT_KEY
        self._sip_key = SIP_ENDPOINT_KEY
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        await self.services.ready()
        self.audiosocket = f"127.0.0.1:{self.app[self._port_key]}"
        self.sip = self.app[self._sip_key]  # the SIP endpoint; callers dial sip:...@127.0.0.1:{sip.port}

    def call(self, coroutine, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def in_server(self, coroutine):
        """Await ``coroutine`` on the server's loop without blocking the test's (its clients keep going)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def line(self, protocol: str = "twilio", sample_rate: int = 8000):
        """A client line that proves itself as the real carrier would (signature or voice token)."""
        from voice_gateway.client import open_line

        url = self.audiosocket if protocol == "audiosocket" else self.url
        return open_line(url, protocol, sample_rate, self.credentials)

    def synthesize(self, text: str, sample_rate: int = 8000) -> bytes:
        return caller_voice().synthesize(text, sample_rate)

    def tracker(self, call_id: str):
        return self.call(self.services.processor.get_tracker(call_id))

    async def call_id_of(self, caller, timeout: float = 10.0) -> str:
        """The gateway's id for a live call. Helpline's protocol tells the client; for Twilio and
        AudioSocket, which cannot, it is found by the client's own id (its external reference)."""
        deadline = time.monotonic() + timeout
        while caller.call_id is None and time.monotonic() < deadline:
            caller.call_id = next((call_id for call_id, session in list(self.services.calls.items())
                                   if session.external_id == caller.reference), None)
            await asyncio.sleep(0.02)
        assert caller.call_id is not None, f"no live call for {caller.reference}"
        return caller.call_id


@pytest.fixture(scope="session")
def voice_server(demo_archive, tmp_path_factory):
    from helpline.app import build_app
    from helpline.security.secrets import load_secrets
    from voice_gateway.client import LineCredentials
    from voice_gateway.config import AudioSocketConfig, NoInputConfig, RecordingConfig

    data = tmp_path_factory.mktemp("voice-data")
    saved = {k: os.environ.get(k) for k in ("HELPLINE_DATA_DIR", "HELPLINE_MODELS_DIR")}
    os.environ.update(HELPLINE_DATA_DIR=str(data), HELPLINE_MODELS_DIR=str(demo_archive.parent))
    try:
        app = build_app(ROOT, demo_archive)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    server = VoiceServer(app)
    server.data_dir = data
    secrets = load_secrets(data)
    server.credentials = LineCredentials(secrets.twilio_auth_token, secrets.secret_key)
    config = server.services.config
    config.audiosocket = AudioSocketConfig(port=0)
    config.sip.port = 0  # the demo's allowlist: 127.0.0.1 only
    config.recording = RecordingConfig(enabled=True, dir=data / "recordings")
    config.no_input = NoInputConfig(timeout_secs=2.5, reprompts=1, then="handoff")
    config.start_timeout_secs = 2.0
    config.prewarm_responses = False  # spare the CPU: tests hear each fixed response once or twice
    server.start()
    caller_voice()  # loaded before the first call, not while a caller is expected to speak
    yield server
    server.stop()
