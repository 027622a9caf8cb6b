"""Phone calls over SIP from a real SIP client (Debian's baresip), through the real gateway and models.

baresip dials the gateway's SIP endpoint, sends Piper-synthesized speech from WAV files (switched
turn by turn once the bot is quiet) and RFC 4733 keys, and records what it hears; the bot's replies
are checked by recognising that recording with Whisper. The gateway is the session's one voice
server (tests/voice/conftest.py), with SIP on a free port and the demo's allowlist (127.0.0.1).
"""
from __future__ import annotations

import asyncio
import time
import uuid

from tests.needs import sip_tool
from tests.sip_peers import (
    Baresip, exchange, free_port, recognise, silence, sip_request, write_wav,
)
from tests.voice.conftest import CALLER, queue_record
from tests.voice.test_calls import bot_texts, transcript

TURN_PAD_SECS = 25  # each turn's WAV ends in silence long enough for the bot's answer (baresip hangs up at EOF)


def live_call(voice_server, timeout: float = 15.0):
    """The gateway's session of the one live SIP call."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sip_call in list(voice_server.sip.calls.values()):
            session = next((s for s in list(voice_server.services.calls.values())
                            if s.external_id == getattr(sip_call, "sip_call_id", None)), None)
            if session is not None:
                return sip_call, session
        time.sleep(0.05)
    raise AssertionError("no live SIP call in the gateway")


async def bot_quiet(session, quiet_secs: float = 0.8, timeout: float = 60.0) -> None:
    """Wait until the bot has said everything and waits for the caller."""
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        idle = not session.playback.playing and session.inputs.empty() and session.utterance is None
        since = (since or time.monotonic()) if idle else None
        if since and time.monotonic() - since >= quiet_secs:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot kept talking")


async def turn(voice_server, session, caller: Baresip, speech: bytes | None = None, keys: str = "") -> None:
    """One caller turn (speech or keys), then the bot's answer to the end."""
    answers = len(voice_server.services.turn_latencies_ms)
    if speech is not None:
        await caller.play(write_wav(caller.dir / f"turn-{uuid.uuid4().hex[:6]}.wav", speech + silence(TURN_PAD_SECS)))
    if keys:
        await caller.press(keys)
    deadline = time.monotonic() + 40
    while len(voice_server.services.turn_latencies_ms) == answers:
        assert time.monotonic() < deadline, "the bot did not answer"
        await asyncio.sleep(0.05)
    await bot_quiet(session)


async def dial(voice_server, tmp_path, transport: str = "udp", codecs: str = "PCMU,PCMA") -> Baresip:
    caller = Baresip(tmp_path / "baresip", write_wav(tmp_path / "quiet.wav", silence(60)), transport=transport,
                     codecs=codecs)
    await caller.start()
    await caller.dial(f"sip:helpline@127.0.0.1:{voice_server.sip.port};transport={transport}")
    return caller


async def test_order_status_by_speech_while_bad_invites_are_refused(voice_server, tmp_path):
    order, number = (voice_server.synthesize(text) for text in ("I'd like to check on my order.",
                                                                "four seven two nine one eight"))
    caller = await dial(voice_server, tmp_path)
    try:
        sip_call, session = live_call(voice_server)
        assert session.caller_number == CALLER  # from the allowed peer's From
        assert session.call_id.startswith("call-") and session.external_id == sip_call.sip_call_id  # a reference only

        server = ("127.0.0.1", voice_server.sip.port)
        target = f"sip:helpline@127.0.0.1:{voice_server.sip.port}"
        sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        outsider = sip_request("INVITE", target, ("127.0.0.2", "PORT0"), uuid.uuid4().hex, sdp)
        assert exchange(outsider, server, source_host="127.0.0.2") == "SIP/2.0 403 Forbidden"
        bad_sdp = sip_request("INVITE", target, ("127.0.0.1", "PORT0"), uuid.uuid4().hex, "v=0\r\nm=audio x\r\n")
        assert exchange(bad_sdp, server).startswith("SIP/2.0 400")
        assert exchange(b"INVITE \xff\xfe garbage\r\n\r\n", server, timeout=1.0) is None  # dropped unread
        no_call_id = sip_request("INVITE", target, ("127.0.0.1", "PORT0"), "x" * 12, sdp).replace(
            b"Call-ID: xxxxxxxxxxxx\r\n", b"")
        assert exchange(no_call_id, server).startswith("SIP/2.0 400")
        status = voice_server.sip.status()
        assert status["refused_peers"] >= 1 and status["live_calls"] == 1 and status["answered"] >= 1

        await bot_quiet(session)  # the greeting, untouched by the refused INVITEs
        await turn(voice_server, session, caller, order)
        await turn(voice_server, session, caller, number)
        invite_cseq = sip_call.dialog.invite.cseq.seq
        await caller.command("reinvite")  # the phone refreshes the session: the call goes on
        deadline = time.monotonic() + 10
        while sip_call.dialog.invite.cseq.seq == invite_cseq:
            assert time.monotonic() < deadline, "the re-INVITE never reached the call"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        assert sip_call.sip_call_id in voice_server.sip.calls and not sip_call.closed
        await caller.hang_up()
        await caller.wait_event("CALL_CLOSED")
    finally:
        await caller.close()
    heard = recognise(voice_server.services.asr, caller.heard())
    compact = "".join(ch for ch in heard if ch.isalnum())  # "north wind" or "northwind", "u.p.s." or "ups"
    assert "supply" in compact, heard  # the greeting ("Northwind Supply"; tiny.en may hear "north 1")
    assert "ordernumber" in compact, heard  # asked for the number
    # the order's status reached the caller; tiny.en may write "shipped with UPS" as "1hip with updesk"
    assert any(word in compact for word in ("ups", "shipped", "arrive")), heard
    said = bot_texts(voice_server.tracker(session.call_id))
    assert "four seven two nine one eight" in said and "shipped" in said, said
    assert transcript(voice_server, session.call_id)["ended_reason"] == "caller hung up"


async def test_keyed_order_number_then_handoff_to_the_desk(voice_server, tmp_path):
    from helpline.app import AGENT_BRIDGE

    bridge = voice_server.app[AGENT_BRIDGE]
    order, person = (voice_server.synthesize(text) for text in ("I'd like to check on my order.",
                                                                 "Can I talk to a person please?"))
    caller = await dial(voice_server, tmp_path, transport="tcp")
    try:
        sip_call, session = live_call(voice_server)
        assert sip_call.transport.reliable  # the call came in over TCP
        await bot_quiet(session)
        await turn(voice_server, session, caller, order)
        await turn(voice_server, session, caller, keys="472918#")  # RFC 4733 telephone-events
        assert "four seven two nine one eight" in bot_texts(voice_server.tracker(session.call_id))
        await caller.play(write_wav(tmp_path / "person.wav", person + silence(TURN_PAD_SECS)))
        deadline = time.monotonic() + 40
        while session.call_id not in bridge.legs:
            assert time.monotonic() < deadline, "the call never reached the agent bridge"
            await asyncio.sleep(0.1)
        queued = voice_server.call(bridge.acd.store.get_call(session.call_id))
        assert queued.queue == "orders" and queued.caller_number == CALLER
        assert queued.summary["slots"]["order_number"] == "472918"
        await caller.hang_up()
        await caller.wait_event("CALL_CLOSED")
    finally:
        await caller.close()
    deadline = time.monotonic() + 10
    while voice_server.call(bridge.acd.store.get_call(session.call_id)) is not None:  # left the queue
        assert time.monotonic() < deadline, "the queued caller's hang-up (a BYE over TCP) did not reach the ACD"
        await asyncio.sleep(0.1)
    assert session.call_id not in bridge.legs
    assert "connect you" in bot_texts(voice_server.tracker(session.call_id))


async def test_caller_hangs_up_mid_prompt(voice_server, tmp_path):
    caller = await dial(voice_server, tmp_path, codecs="PCMA")  # a caller that speaks A-law only
    try:
        sip_call, session = live_call(voice_server)
        assert sip_call.rtp.payload_type == 8
        deadline = time.monotonic() + 20
        while not session.playback.playing:
            assert time.monotonic() < deadline, "the greeting never started"
            await asyncio.sleep(0.05)
        await asyncio.sleep(3.0)
        assert session.playback.playing  # hang up while the greeting (about 8 s) plays
        await caller.hang_up()
        await caller.wait_event("CALL_CLOSED")
    finally:
        await caller.close()
    record = transcript(voice_server, session.call_id)
    assert record["ended_reason"] == "caller hung up"
    heard = recognise(voice_server.services.asr, caller.heard())  # A-law decoded as A-law: words, not noise
    # Either greeting, cut off after about 3 s; Whisper may write "Northwind" as "north when".
    assert any(words in heard for words in ("thanks for calling", "you've reached", "northwind")), heard
    deadline = time.monotonic() + 5
    while sip_call.sip_call_id in voice_server.sip.calls:
        assert time.monotonic() < deadline, "the SIP call was not released"
        await asyncio.sleep(0.05)
    assert sip_call.rtp._closed


async def test_a_queue_with_transfer_to_refers_sip_callers_to_that_pbx(voice_server, tmp_path):
    """The general queue's agents sit on another PBX (SIPp answering there): the caller is REFERred to it."""
    from helpline.app import AGENT_BRIDGE

    bridge = voice_server.app[AGENT_BRIDGE]
    pbx_port = free_port()
    pbx = await asyncio.create_subprocess_exec(
        sip_tool("sipp"), "-sn", "uas", "-i", "127.0.0.1", "-p", str(pbx_port), "-mp", str(free_port()),
        "-m", "1", "-nostdin", "-timeout", "90s", "-timeout_error", "-trace_stat", "-stf", str(tmp_path / "pbx.csv"),
        cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    queue = bridge.acd.queue("general")
    queue.transfer_to = f"sip:agents@127.0.0.1:{pbx_port}"
    caller = None
    try:
        caller = await dial(voice_server, tmp_path)
        sip_call, session = live_call(voice_server)
        await bot_quiet(session)
        await caller.press("0")  # a person, please: the general queue
        await caller.wait_event("TRANSFER", timeout=40)  # the REFER reached the caller's phone
        record = await queue_record(voice_server, session.call_id)  # the transferred call left the queue
        assert record["state"] == "transferred" and record["queue"] == "general"
        # after a blind transfer either side may end the first leg: we hang up, or the phone does first
        assert transcript(voice_server, session.call_id)["ended_reason"] in ("transferred", "caller hung up")
        await caller.hang_up()  # the caller, now talking to the PBX, hangs up there
        assert await asyncio.wait_for(pbx.wait(), 30) == 0  # the PBX took exactly one call, and it ended well
    finally:
        queue.transfer_to = None
        if caller is not None:
            await caller.close()
        if pbx.returncode is None:
            pbx.kill()
            await pbx.wait()
