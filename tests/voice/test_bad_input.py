"""Callers that break the protocol: that call ends with a logged reason, a call running beside it goes on."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
import websockets

from voice_gateway.client import Caller
from tests.voice.conftest import CALLER

TWILIO_START = {"event": "start", "start": {"streamSid": "MZbad", "callSid": "CAbad", "mediaFormat": {
    "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}


def twilio_start(call_id: str, **media_format) -> str:
    start = json.loads(json.dumps(TWILIO_START))
    start["start"]["callSid"] = call_id
    start["start"]["mediaFormat"].update(media_format)
    return json.dumps(start)


def helpline_start(call_id: str, rate=8000) -> str:
    return json.dumps({"event": "start", "call_id": call_id, "sample_rate": rate})


BAD_CALLS = [  # (path, messages, the reason the call must end with)
    ("twilio", ["{not json"], "not valid JSON"),
    ("twilio", [twilio_start("CAunknown"), json.dumps({"event": "teleport"})], "unknown event 'teleport'"),
    ("twilio", [twilio_start("CArate", sampleRate=16000)], "unsupported media format"),
    ("twilio", [twilio_start("CAb64"), json.dumps({"event": "media", "media": {"payload": "abc"}})], "not valid base64"),
    ("ws", [helpline_start("rate", 44100)], "unsupported sample_rate 44100"),
    ("ws", [helpline_start("odd"), b"\x00" * 321], "truncated audio frame"),
    ("ws", [helpline_start("big"), b"\x00" * 16002], "oversized audio frame"),
    ("ws", [b"\x00" * 320], "audio before 'start'"),
    ("ws", [helpline_start("x" * 129)], "'call_id' is longer than 128 characters"),
    ("twilio", [twilio_start("CA" + "x" * 127)], "'callSid' is longer than 128 characters"),
    ("ws", [], "no start message for 2 s"),  # connects and says nothing
]


async def misbehave(voice_server, path: str, messages: list) -> str:
    url = f"{voice_server.url.replace('http', 'ws')}/voice/{path}"
    headers = voice_server.credentials.headers("twilio" if path == "twilio" else "helpline", url)
    async with websockets.connect(url, additional_headers=headers) as ws:
        for message in messages:
            await ws.send(message)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed:
            return ws.close_reason or ""


async def test_bad_callers_end_only_their_own_call(voice_server, caplog):
    caplog.set_level(logging.INFO, logger="voice_gateway")
    good = Caller(voice_server.line("helpline")).dial(None, CALLER)
    async with good:
        question = asyncio.ensure_future(good.say(voice_server.synthesize("What's my account balance?")))
        for path, messages, reason in BAD_CALLS:
            close_reason = await misbehave(voice_server, path, messages)
            assert reason in close_reason, (messages, close_reason)
        answer = await question
        assert answer.first_bot_audio is not None
        assert any("pin" in text.lower() for text in answer.bot_text)
        assert good.call_id in voice_server.services.calls
    logged = [r.reason for r in caplog.records if hasattr(r, "reason")]
    for _, _, reason in BAD_CALLS:
        assert any(reason in entry for entry in logged), reason


async def test_a_caller_who_hangs_up_mid_turn(voice_server, caplog):
    caplog.set_level(logging.INFO, logger="voice_gateway")
    line = voice_server.line("helpline")
    caller = Caller(line).dial(None, CALLER)
    async with caller:
        await caller.say(voice_server.synthesize("Where is my order?"), wait=False)
        await asyncio.sleep(0.7)  # the turn has ended; recognition and the bot are at work
        await line.ws.close()
    for _ in range(100):
        if caller.call_id not in voice_server.services.calls:
            break
        await asyncio.sleep(0.1)
    assert caller.call_id not in voice_server.services.calls
    ended = [r for r in caplog.records if r.getMessage() == "call ended" and r.call_id == caller.call_id]
    assert ended and ended[0].reason in ("caller disconnected", "caller hung up")
    # the server still answers calls
    async with Caller(voice_server.line("helpline")).dial("after-hang-up", CALLER) as next_call:
        await next_call.wait_until_quiet()
        assert next_call.greeting.first_bot_audio is not None


@pytest.mark.parametrize("payload, reason", [(b"\x10\x01\x00" + b"\x00" * 10, "truncated AudioSocket message"),
                                             (b"\x10\xff\xff", "oversized audio frame")])
async def test_bad_audiosocket_frames(voice_server, caplog, payload, reason):
    import uuid

    from voice_gateway.serializers.audiosocket import UUID, pack

    caplog.set_level(logging.INFO, logger="voice_gateway")
    host, port = voice_server.audiosocket.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(pack(UUID, uuid.uuid4().bytes) + payload)
    await writer.drain()
    writer.write_eof()
    await asyncio.wait_for(reader.read(), 10)  # the gateway closes the connection
    writer.close()
    await asyncio.sleep(0.2)
    assert any(reason in getattr(r, "reason", "") for r in caplog.records)
