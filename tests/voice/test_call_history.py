"""Call records and the automatic scorecard from real phone calls (Twilio Media Streams, real ASR/TTS, demo bot).

A contained order-status call, a call whose PIN fails three times and is escalated, and a call in
which the caller says a configured phrase: each one's record is read back from the store the server
writes (texts masked, the bot's decisions beside each turn, the recordings) and scored at its end.
"""
from __future__ import annotations

import asyncio
import time
import uuid

from handoff.records.model import ABANDONED, CONTAINED, IN_PROGRESS
from voice_gateway.client import Caller
from tests.voice.conftest import CALLER, wait_for

TOM = "+15551230004"  # Tom in the demo CRM (PIN 5150): the failed checks count against no other test's caller


def closed_record(voice_server, call_id: str):
    """The call's record once the server has closed it (which trails the hang-up a little)."""
    store = voice_server.services.journal.store
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        record = voice_server.call(store.get(call_id))
        if record is not None and record.outcome != IN_PROGRESS and record.qa_score is not None:
            return record
        time.sleep(0.1)
    raise AssertionError(f"no closed record for {call_id}")


async def test_a_contained_order_status_call_is_recorded_and_scores_well(voice_server):
    ask, goodbye = (voice_server.synthesize(text) for text in ("I'd like to check on my order.", "No thanks, goodbye."))
    async with Caller(voice_server.line("twilio"), quiet_secs=2.0).dial(f"CA{uuid.uuid4().hex}", CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.wait_until_quiet()
        await caller.say(ask)
        await caller.press("472918#")
        await caller.say(goodbye)
        await asyncio.wait_for(caller.closed.wait(), 20)  # the bot said goodbye and hung up
    record = closed_record(voice_server, call_id)
    assert (record.outcome, record.channel, record.caller) == (CONTAINED, "twilio", "•••••••0001")
    assert record.turns[0].speaker == "bot" and "utter_greet" in record.turns[0].actions
    asked = next(t for t in record.turns if t.speaker == "caller")
    assert asked.intent == "check_order_status" and asked.confidence > 0.5 and "order_status_form" in asked.actions
    keyed = next(t for t in record.turns if t.text == "keypad: 472918")
    assert "action_order_status" in keyed.actions or "order_status_form" in keyed.actions
    times = [t.at for t in record.turns]
    assert times == sorted(times) and times[-1] < record.ended_at - record.started_at + 1
    recordings = voice_server.services.config.recording_dir
    assert set(record.recordings) == {"caller", "bot"}
    assert all((recordings / name).stat().st_size > 44 for name in record.recordings.values())
    assert record.qa_score >= 80 and "failed:resolved" not in record.qa_flags
    voice_server.contained_score = record.qa_score


async def test_three_failed_pins_then_escalated_scores_lower_than_a_contained_call(voice_server):
    async with Caller(voice_server.line("twilio")).dial(f"CA{uuid.uuid4().hex}", TOM) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.say(voice_server.synthesize("What's my account balance?"))
        for _ in range(2):
            await caller.press("1111#")
        await caller.press("1111#", wait=False)  # the third failure hands the call to a queue
        await wait_for(lambda: voice_server.tracker(call_id).paused)
        tracker = voice_server.tracker(call_id)
        assert tracker.paused and tracker.slots["handoff_reason"] == "failed_verification"
    record = closed_record(voice_server, call_id)  # hung up while queued: abandoned
    assert (record.outcome, record.escalation_reason, record.queue) == (ABANDONED, "failed_verification", "billing")
    assert record.caller == "•••••••0004" and "1111" not in str(record.to_dict())
    pins = [t for t in record.turns if t.speaker == "caller" and t.sensitive]
    assert len(pins) == 3 and {t.text for t in pins} == {"[redacted]"}
    assert "failed:resolved" in record.qa_flags
    contained = getattr(voice_server, "contained_score", 100.0)
    assert record.qa_score < contained


async def test_a_configured_phrase_said_by_the_caller_flags_the_call(voice_server):
    async with Caller(voice_server.line("twilio")).dial(f"CA{uuid.uuid4().hex}", CALLER) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.say(voice_server.synthesize("I want to make a complaint about my bill."))
    record = closed_record(voice_server, call_id)
    said = " ".join(t.text.lower() for t in record.turns if t.speaker == "caller")
    assert "complaint" in said
    assert "phrase:complaint" in record.qa_flags
