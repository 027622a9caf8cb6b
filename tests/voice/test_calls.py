"""End-to-end phone calls over a real WebSocket (Twilio Media Streams, 8 kHz mu-law) with the real models.

The caller's words are synthesized with Piper; the bot's side is checked in its tracker, the
call recording and the protocol messages the client received.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

from voice_gateway.client import Caller
from tests.voice.conftest import CALLER, queue_record, wait_for


def bot_texts(tracker) -> str:
    return " ".join(e.text or "" for e in tracker.events if type(e).__name__ == "BotUttered").lower()


def transcript(voice_server, call_id: str) -> dict:
    """The call's recorded transcript once the call is closed (which may trail the hang-up a little)."""
    for _ in range(50):
        files = list(voice_server.services.config.recording_dir.glob(f"*-{call_id}/transcript.json"))
        if files:
            record = json.loads(files[0].read_text())
            if record["ended_reason"] is not None:
                return record
        time.sleep(0.1)
    raise AssertionError(f"no closed transcript recorded for {call_id}")


async def test_order_status_with_a_spoken_order_number(voice_server):
    call_sid = f"CA{uuid.uuid4().hex}"  # Twilio's id for the call; the gateway makes its own
    # Spoken before dialing: with quiet_secs the caller waits out the bot's pauses between sentences, as
    # a polite caller does, and then has only the rest of the no-input timeout (2.5 s here) to start.
    order, number, goodbye = (voice_server.synthesize(text) for text in (
        "I'd like to check on my order.", "four seven two nine one eight", "No thanks, goodbye."))
    async with Caller(voice_server.line("twilio"), quiet_secs=2.0).dial(call_sid, CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.wait_until_quiet()
        assert len(caller.greeting.bot_audio) > 8000 * 2  # more than a second of greeting
        asked = await caller.say(order)
        assert asked.first_bot_audio is not None
        answer = await caller.say(number)
        assert answer.latency_ms is not None and len(answer.bot_audio) > 8000 * 2
        await caller.say(goodbye)
        await asyncio.wait_for(caller.closed.wait(), 20)  # the bot said goodbye and hung up
    said = bot_texts(voice_server.tracker(call_id))
    assert "four seven two nine one eight" in said and "ups" in said
    record = transcript(voice_server, call_id)
    assert record["ended_reason"] == "the bot ended the call"
    assert call_id.startswith("call-") and record["external_call_id"] == call_sid  # Twilio's id: a reference
    lines = record["lines"]
    assert [line["speaker"] for line in lines[:2]] == ["bot", "caller"]
    assert any("four seven two nine one eight" in line["text"].lower() for line in lines if line["speaker"] == "bot")


async def test_balance_with_a_keypad_pin_keeps_the_pin_out_of_records(voice_server):
    call_sid = f"CA{uuid.uuid4().hex}"  # Twilio's id for the call; the gateway makes its own
    async with Caller(voice_server.line("twilio")).dial(call_sid, CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.say(voice_server.synthesize("What's my account balance?"))  # over the greeting: barge-in
        answer = await caller.press("2468#")
        assert answer.first_bot_audio is not None
    tracker = voice_server.tracker(call_id)
    assert tracker.slots["verified"] is True
    assert "balance is" in bot_texts(tracker)
    record = json.dumps(transcript(voice_server, call_id))
    assert "2468" not in record and "[redacted]" in record


async def test_barge_in_stops_a_long_answer_but_a_short_uh_huh_does_not(voice_server):
    call_sid = f"CA{uuid.uuid4().hex}"  # Twilio's id for the call; the gateway makes its own
    async with Caller(voice_server.line("twilio")).dial(call_sid, CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.say(voice_server.synthesize("Okay."), wait=False)  # a backchannel over the greeting
        await caller.silence(1.5)
        assert caller.clears == 0
        interrupted = await caller.say(voice_server.synthesize("I want to talk about my order please."))
        assert caller.clears == 1
        assert interrupted.first_bot_audio is not None
    tracker = voice_server.tracker(call_id)
    assert tracker.requested_slot == "order_number"  # what the caller said was processed
    greeting_secs = len(caller.greeting.bot_audio) / 16000
    assert greeting_secs < 7  # the greeting (about 8 s) was cut short


async def test_keypad_zero_asks_for_a_person(voice_server):
    call_sid = f"CA{uuid.uuid4().hex}"  # Twilio's id for the call; the gateway makes its own
    async with Caller(voice_server.line("twilio")).dial(call_sid, CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        answer = await caller.press("0", wait=False)
        await wait_for(lambda: answer.first_bot_audio is not None and voice_server.tracker(call_id).paused)
    tracker = voice_server.tracker(call_id)
    assert tracker.paused and tracker.slots["handoff_reason"] == "keypad_zero"
    assert "connect you" in bot_texts(tracker)
    # hung up while the handoff reply played: the queue must not keep the call for the next free agent
    assert (await queue_record(voice_server, call_id, 10))["state"] == "abandoned"
    assert voice_server.call(voice_server.services.agent_bridge.acd.store.get_call(call_id)) is None


async def test_a_silent_caller_is_reprompted_then_handed_off(voice_server):
    call_sid = f"CA{uuid.uuid4().hex}"  # Twilio's id for the call; the gateway makes its own
    async with Caller(voice_server.line("twilio")).dial(call_sid, CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.wait_until_quiet()
        caller.answer_timeout = 10
        reprompt = await caller.press("")  # say nothing: just listen
        assert reprompt.first_bot_audio is not None
        await caller.wait_until_quiet(reprompt.first_bot_audio + 0.1)
        handoff = await caller.press("", wait=False)
        await wait_for(lambda: handoff.first_bot_audio is not None and voice_server.tracker(call_id).paused, 30)
    tracker = voice_server.tracker(call_id)
    assert tracker.paused and tracker.slots["handoff_reason"] == "no_input"
    lines = [line["text"] for line in transcript(voice_server, call_id)["lines"]]
    assert any("didn't hear anything" in text for text in lines)


async def test_the_caller_waits_out_a_reply_longer_than_the_answer_timeout(voice_server):
    """The help reply runs about eleven seconds: a caller that must be answered within three still
    hears all of it before its next turn (the load generator's callers used to talk over its end)."""
    question = voice_server.synthesize("What can you help me with?")
    async with Caller(voice_server.line("twilio"), quiet_secs=1.0, answer_timeout=3).dial(
            f"CA{uuid.uuid4().hex}", CALLER) as caller:
        await caller.wait_until_quiet()
        help_reply = await caller.say(question)
        done_waiting = time.monotonic()
        assert help_reply.first_bot_audio is not None
        assert done_waiting - help_reply.first_bot_audio > 3 + 1.0  # longer than the answer timeout allows
        assert done_waiting - caller._last_audio >= 1.0  # returned after the reply, quiet_secs later


async def test_helpline_load_places_scripted_calls_and_measures_every_turn(voice_server, tmp_path):
    """`helpline load`'s callers against the real gateway: every turn answered and timed from the
    end of the caller's speech, so a spoken turn's latency includes the end-of-turn silence."""
    from voice_gateway.load.monitor import ServerMonitor
    from voice_gateway.load.runner import LoadOptions, run_load
    from voice_gateway.load.scenarios import SCENARIOS, CallerAudio

    scenarios = [SCENARIOS["knowledge_question"], SCENARIOS["balance_keyed_pin"]]
    options = LoadOptions(voice_server.url, 2, scenarios, voice_server.credentials, answer_timeout=20)
    report = await run_load(options, CallerAudio(tmp_path), ServerMonitor([os.getpid()]))
    summary = report.summary()
    assert report.errors == []
    assert summary["calls_placed"] == 2 and summary["turns"] == 5
    spoken = [turn.ms for call in report.calls for turn in call.turns if turn.step.startswith("say:")]
    end_of_turn_ms = voice_server.services.config.end_of_turn_secs * 1000
    assert len(spoken) == 4 and all(end_of_turn_ms < ms < 20_000 for ms in spoken), spoken
    assert summary["load_generator_cpu_cores"] > 0 and summary["rss_mb"] > 100
    assert set(summary["p50_p95_ms_by_step"]) == {step for s in scenarios for step in s.steps}
