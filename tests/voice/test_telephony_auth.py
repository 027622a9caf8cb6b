"""Telephony peers prove who they are before a call starts, and the caller number comes only from that proof.

Twilio signs its stream upgrade with the account's auth token; a Helpline-protocol client brings a
voice token signed with the server's secret key (from ``POST /voice/token`` or minted with the
key); Asterisk connects from an allowed address. Anything else is refused before a call exists.
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid

import aiohttp
import pytest
import websockets

from tests.auth_support import sign_in
from tests.voice.conftest import CALLER
from voice_gateway.auth import issue_voice_token, twilio_signature
from voice_gateway.client import Caller
from voice_gateway.serializers.audiosocket import HANGUP, UUID, pack

VIP = "+15551230002"  # config.yml: helpline.escalation.vip.numbers


def ws_url(voice_server, path: str) -> str:
    return f"{voice_server.url.replace('http', 'ws')}/voice/{path}"


async def refused_with(url: str, headers: dict) -> int:
    """The HTTP status a WebSocket upgrade is refused with (the test fails if it is accepted)."""
    with pytest.raises(websockets.InvalidStatus) as refusal:
        async with websockets.connect(url, additional_headers=headers):
            pass
    return refusal.value.response.status_code


def open_connections(voice_server) -> int:
    return voice_server.services.connections.open


async def test_a_twilio_stream_needs_twilios_signature(voice_server):
    url = ws_url(voice_server, "twilio")
    token = voice_server.credentials.twilio_auth_token
    calls, connections = len(voice_server.services.calls), open_connections(voice_server)
    assert await refused_with(url, {}) == 401
    assert await refused_with(url, {"X-Twilio-Signature": twilio_signature("not-the-token", url)}) == 401
    assert await refused_with(url, {"X-Twilio-Signature": twilio_signature(token, url + "?other=1")}) == 401
    assert (len(voice_server.services.calls), open_connections(voice_server)) == (calls, connections)  # no call
    async with Caller(voice_server.line("twilio")).dial("CAsigned", CALLER) as caller:  # signed as Twilio does
        assert (await voice_server.call_id_of(caller)).startswith("call-")


async def test_audio_streams_are_not_deflated_even_when_the_peer_offers_it(voice_server):
    """Compressing 20 ms of audio per message costs CPU under load and saves nothing."""
    url = ws_url(voice_server, "twilio")
    signature = twilio_signature(voice_server.credentials.twilio_auth_token, url)
    async with websockets.connect(url, additional_headers={"X-Twilio-Signature": signature},
                                  compression="deflate") as ws:
        assert "permessage-deflate" in ws.request.headers.get("Sec-WebSocket-Extensions", "")  # offered
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None  # declined


async def test_the_configured_public_url_is_what_the_signature_covers(voice_server):
    """Behind a proxy Twilio signs the URL it requested, not the one the server sees."""
    config = voice_server.services.config
    url, public = ws_url(voice_server, "twilio"), "wss://helpline.example.com/voice/twilio"
    token = voice_server.credentials.twilio_auth_token
    config.twilio.public_url = public
    try:
        assert await refused_with(url, {"X-Twilio-Signature": twilio_signature(token, url)}) == 401
        async with websockets.connect(url, additional_headers={"X-Twilio-Signature": twilio_signature(token, public)}):
            pass  # accepted
    finally:
        config.twilio.public_url = None


async def test_a_helpline_call_needs_a_valid_voice_token(voice_server):
    url = ws_url(voice_server, "ws")
    key = voice_server.credentials.secret_key
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    connections = open_connections(voice_server)
    assert await refused_with(url, {}) == 401
    assert await refused_with(url, bearer(issue_voice_token(key, "late", seconds=-30))) == 401  # expired
    assert await refused_with(url, bearer(issue_voice_token("a-different-secret-key-of-at-least-32-bytes", "forged"))) == 401
    assert await refused_with(url, bearer("not.a.token")) == 401
    assert await refused_with(url + "?token=" + issue_voice_token("a-different-secret-key-of-at-least-32-bytes", "forged"), {}) == 401
    assert open_connections(voice_server) == connections  # refused before the gateway counted a connection
    async with websockets.connect(f"{url}?token={issue_voice_token(key, 'softphone')}") as ws:  # the softphone's way
        await ws.send(json.dumps({"event": "start", "sample_rate": 8000}))
        started = json.loads(await ws.recv())
        assert started["event"] == "started" and started["call_id"].startswith("call-")


async def test_staff_get_voice_tokens_and_only_admins_and_editors_choose_the_caller_number(voice_server):
    async with aiohttp.ClientSession(base_url=voice_server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        assert (await client.post("/voice/token", json={})).status == 401  # anonymous
        tokens = {}
        for user in ("alice", "admin"):
            client.cookie_jar.clear()
            headers = await sign_in(client, user)
            response = await client.post("/voice/token", json={"caller_number": VIP}, headers=headers)
            assert response.status == 200
            tokens[user] = (await response.json())["token"]
    for user, number in (("alice", None), ("admin", VIP)):
        async with websockets.connect(ws_url(voice_server, "ws") + "?token=" + tokens[user]) as ws:
            await ws.send(json.dumps({"event": "start", "sample_rate": 8000, "caller_number": VIP}))
            call_id = json.loads(await ws.recv())["call_id"]
            assert voice_server.services.calls[call_id].caller_number == number, user


async def place_waiting_call(voice_server, token_number: str | None, claimed_number: str | None):
    """A Helpline-protocol call (voice token for ``token_number``; its start claims ``claimed_number``)
    that keys an entry (a turn that carries the caller number to the bot), then presses 0 to wait in a
    queue; returns the socket and the call's id."""
    token = issue_voice_token(voice_server.credentials.secret_key, "test-caller", token_number)
    ws = await websockets.connect(ws_url(voice_server, "ws"), additional_headers={"Authorization": f"Bearer {token}"})
    await ws.send(json.dumps({"event": "start", "sample_rate": 8000, "caller_number": claimed_number}))
    call_id = json.loads(await ws.recv())["call_id"]
    while not isinstance(await ws.recv(), bytes):  # the greeting plays: a key now interrupts it
        pass
    for key in "1#":
        await ws.send(json.dumps({"event": "dtmf", "digit": key}))
    async for message in ws:  # the bot's answer to the entry starts: press 0 over it
        if isinstance(message, str) and json.loads(message)["event"] == "turn":
            break
    await ws.send(json.dumps({"event": "dtmf", "digit": "0"}))
    return ws, call_id


async def listen(ws) -> None:
    """Take what the gateway sends (a phone plays it), so the line keeps flowing."""
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


async def queued(voice_server, call_id: str):
    acd = voice_server.services.agent_bridge.acd
    for _ in range(600):
        call = await voice_server.in_server(acd.store.get_call(call_id))
        if call is not None:
            return call
        await asyncio.sleep(0.05)
    raise AssertionError(f"{call_id} never joined a queue")


async def test_forged_vip_calls_do_not_jump_the_queue(voice_server):
    """The start message's caller number is ignored: five calls claiming the VIP number wait behind an
    earlier caller with normal priority; a caller whose token says VIP goes first."""
    acd = voice_server.services.agent_bridge.acd
    config = voice_server.services.config
    sockets, listeners, idle_timeout = [], [], config.idle_timeout_secs
    config.idle_timeout_secs = 300  # the waiting callers send no audio
    try:
        first, first_id = await place_waiting_call(voice_server, CALLER, None)
        sockets.append(first)
        listeners.append(asyncio.ensure_future(listen(first)))
        await queued(voice_server, first_id)
        forged = []
        for _ in range(5):
            ws, call_id = await place_waiting_call(voice_server, None, VIP)
            sockets.append(ws)
            listeners.append(asyncio.ensure_future(listen(ws)))
            forged.append(await queued(voice_server, call_id))
        assert [call.priority for call in forged] == [0] * 5
        assert [call.caller_number for call in forged] == [None] * 5
        vip, vip_id = await place_waiting_call(voice_server, VIP, None)
        sockets.append(vip)
        listeners.append(asyncio.ensure_future(listen(vip)))
        assert (await queued(voice_server, vip_id)).priority > 0  # the real VIP rule applies
        places = {call_id: (await voice_server.in_server(acd.position(call_id)))[0]
                  for call_id in [first_id, vip_id, *(call.id for call in forged)]}
        assert places[vip_id] < places[first_id] < min(places[call.id] for call in forged)
    finally:
        config.idle_timeout_secs = idle_timeout
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*listeners)


async def test_audiosocket_accepts_only_allowed_peers(voice_server, caplog):
    caplog.set_level(logging.INFO, logger="voice_gateway")
    config = voice_server.services.config
    host, port = voice_server.audiosocket.split(":")

    async def dial_from(address: str) -> tuple[bytes, str | None]:
        """Connect from ``address``: what the gateway sent back, and the id of the call it started."""
        reader, writer = await asyncio.open_connection(host, int(port), local_addr=(address, 0))
        reference = uuid.uuid4()
        writer.write(pack(UUID, reference.bytes))
        await writer.drain()
        call_id = None
        for _ in range(40):
            call_id = next((c for c, s in list(voice_server.services.calls.items())
                            if s.external_id == str(reference)), None)
            if call_id:
                break
            await asyncio.sleep(0.05)
        try:
            writer.write(pack(HANGUP))
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)
        except ConnectionResetError:  # closed with our bytes unread
            answer = b""
        writer.close()
        return answer, call_id

    saved = config.audiosocket.allow
    config.audiosocket.allow = ["127.0.0.1/32"]
    try:
        answer, call_id = await dial_from("127.0.0.2")
        assert answer == b"" and call_id is None  # closed without a word
        assert any(r.getMessage() == "AudioSocket peer refused" and r.peer == "127.0.0.2" for r in caplog.records)
        config.audiosocket.allow = ["127.0.0.1/32", "127.0.0.2/32"]
        answer, call_id = await dial_from("127.0.0.2")
        assert call_id is not None and call_id.startswith("call-") and answer  # the greeting's audio
    finally:
        config.audiosocket.allow = saved
