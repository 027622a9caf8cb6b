"""How much one peer may take: calls at once, connections per address, message and audio rate, message size."""
from __future__ import annotations

import asyncio
import json
import logging
from contextlib import contextmanager

import aiohttp
import pytest
import websockets
from pydantic import ValidationError

from tests.auth_support import sign_in
from tests.voice.conftest import CALLER
from voice_gateway.client import Caller
from voice_gateway.config import VoiceConfig


@contextmanager
def voice_settings(voice_server, **values):
    """Change voice settings for one test (the gateway reads its limits at each new connection)."""
    config = voice_server.services.config
    saved = {key: getattr(config, key) for key in values}
    for key, value in values.items():
        setattr(config, key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(config, key, value)


async def settled(voice_server) -> None:
    """Earlier tests' connections have closed (each is counted until its call's records are written)."""
    for _ in range(200):
        if voice_server.services.connections.open == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"connections still open: {voice_server.services.connections.by_address}")


async def refusal(voice_server, protocol: str, **connect) -> tuple[int, str]:
    url = f"{voice_server.url.replace('http', 'ws')}/voice/{'twilio' if protocol == 'twilio' else 'ws'}"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers=voice_server.credentials.headers(protocol, url),
                                      **connect):
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body)["message"]


async def test_past_max_calls_new_calls_are_refused_with_a_reason(voice_server, caplog):
    caplog.set_level(logging.INFO, logger="voice_gateway")
    await settled(voice_server)
    with voice_settings(voice_server, max_calls=1):
        async with Caller(voice_server.line("helpline")).dial(None, CALLER) as caller:
            assert caller.call_id in voice_server.services.calls
            for protocol in ("helpline", "twilio"):
                assert await refusal(voice_server, protocol) == (503, "the gateway is at its limit of 1 calls")
            host, port = voice_server.audiosocket.split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            try:
                assert await asyncio.wait_for(reader.read(), 10) == b"\x00\x00\x00"  # hung up at once
            finally:
                writer.close()
            assert len(voice_server.services.calls) == 1
        await settled(voice_server)
        async with Caller(voice_server.line("helpline")).dial(None, CALLER) as caller:  # room again
            assert caller.call_id.startswith("call-")
    refused = [r for r in caplog.records if r.getMessage() == "voice connection refused"]
    assert [r.protocol for r in refused] == ["helpline", "twilio", "audiosocket"]


async def test_connections_are_limited_per_client_address(voice_server):
    await settled(voice_server)
    with voice_settings(voice_server, max_connections_per_address=1):
        async with Caller(voice_server.line("helpline")).dial(None, CALLER):
            assert await refusal(voice_server, "helpline") == (
                503, "too many connections from this address (at most 1)")
            other = voice_server.line("helpline")  # the same limit does not hold back another address
            url = other.url
            async with websockets.connect(url, additional_headers=other.credentials.headers("helpline", url),
                                          local_addr=("127.0.0.2", 0)) as ws:
                await ws.send(json.dumps({"event": "start", "sample_rate": 8000}))
                assert json.loads(await ws.recv())["event"] == "started"


async def call_flooded_with(voice_server, messages: list) -> str:
    """Open a Helpline-protocol call, send ``messages`` as fast as possible; the reason the call ended."""
    line = voice_server.line("helpline")
    async with websockets.connect(line.url, additional_headers=line.credentials.headers("helpline", line.url)) as ws:
        await ws.send(json.dumps({"event": "start", "sample_rate": 8000}))
        await ws.recv()
        try:
            for message in messages:
                await ws.send(message)
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed:
            return ws.close_reason or ""


async def test_a_call_that_sends_too_many_messages_is_ended(voice_server):
    """Real time is 50 messages a second of 20 ms; the default allows three times that (with a 2 s burst)."""
    reason = await call_flooded_with(voice_server, [json.dumps({"event": "mark", "name": "x"})] * 1000)
    assert reason == "protocol error: more than 150 messages a second"


async def test_a_call_that_sends_audio_faster_than_real_time_is_ended(voice_server):
    one_second = bytes(8000 * 2)
    reason = await call_flooded_with(voice_server, [one_second] * 20)
    assert reason == "protocol error: audio faster than 3 times real time"


async def test_a_call_sending_in_real_time_is_not_limited(voice_server):
    """A caller's 20 ms frames on a real-time schedule (with the client's own jitter) stay under both rates."""
    async with Caller(voice_server.line("helpline")).dial(None, CALLER) as caller:
        await caller.silence(3.0)
        assert not caller.closed.is_set()
        assert caller.call_id in voice_server.services.calls


async def test_a_desk_message_over_the_size_limit_closes_only_that_desk(voice_server):
    async with aiohttp.ClientSession(base_url=voice_server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        await sign_in(client, "alice")
        async with client.ws_connect("/desk/ws") as desk:
            hello = await desk.receive_json(timeout=10)
            assert hello["type"] == "hello"
            await desk.send_bytes(bytes(65 * 1024))
            message = await desk.receive(timeout=10)
            while message.type == aiohttp.WSMsgType.TEXT:  # events sent before the close
                message = await desk.receive(timeout=10)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert desk.close_code == 1009  # message too big
        async with client.ws_connect("/desk/ws") as desk:  # the agent signs in again
            assert (await desk.receive_json(timeout=10))["type"] == "hello"


@pytest.mark.parametrize("key, value", [("max_calls", 0), ("max_connections_per_address", -1),
                                        ("max_messages_per_sec", "fast"), ("max_audio_speed", 0)])
def test_limits_must_be_positive_numbers(key, value):
    with pytest.raises(ValidationError, match=key):
        VoiceConfig.model_validate({key: value})
