"""Asterisk AudioSocket over TCP: keypad digits reach the bot only as tones in the audio."""
from __future__ import annotations

import uuid

import numpy as np

from voice_gateway.audio import mulaw
from voice_gateway.audio.dtmf import DtmfDetector, tone
from voice_gateway.client import AudioSocketLine, Caller
from tests.voice.test_calls import bot_texts


async def test_balance_with_a_pin_keyed_as_in_band_tones(voice_server):
    host, port = voice_server.audiosocket.split(":")
    async with Caller(AudioSocketLine(host, int(port))).dial(str(uuid.uuid4())) as caller:
        call_id = await voice_server.call_id_of(caller)
        await caller.say(voice_server.synthesize("What's my account balance?"))
        asked = " ".join(bot_texts(voice_server.tracker(call_id)).split())
        assert "phone number" in asked  # AudioSocket carries no caller ID: the bot asks for it
        await caller.press("5551230001#")
        answer = await caller.press("2468#")
        assert answer.first_bot_audio is not None
    tracker = voice_server.tracker(call_id)
    assert tracker.slots["verified"] is True and "balance is" in bot_texts(tracker)


def test_tones_are_detected_through_mulaw_and_speech_is_not(voice_server):
    keys = "1234567890*#"
    audio = b"".join(tone(k, 0.08) + bytes(1000) for k in keys)
    assert DtmfDetector().feed(mulaw.decode(mulaw.encode(audio))) == list(keys)
    speech = voice_server.synthesize("Four seven two nine one eight. What's my balance? Nine nine nine.")
    noise = np.random.default_rng(1).normal(0, 2000, 16000).astype("<i2").tobytes()
    assert DtmfDetector().feed(speech + noise) == []
