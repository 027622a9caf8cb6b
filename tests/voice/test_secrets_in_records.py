"""A caller's secrets are in no stored byte: spoken PIN (over the PIN prompt), keyed PIN, volunteered card.

Real phone calls (Twilio Media Streams, the real Whisper and Piper models) to the demo, as Maria
(PIN 2468). Afterwards every place the call left something is read: the tracker store's SQLite
files, the handoff store (the agent's summary), the call transcripts, the JSON logs written while
the calls ran, and the caller's recording, which is run through the project's own Whisper: the
digits must not be heard in it.
"""
from __future__ import annotations

import asyncio
import json
import re
import uuid

import numpy as np

from bot.nlu.normalizer import normalize_digits
from tests.log_capture import json_logs
from tests.voice.conftest import CALLER, queue_record, wait_for
from tests.voice.test_calls import bot_texts, transcript
from voice_gateway.asr import create_engine
from voice_gateway.audio.wav import read_wav
from voice_gateway.client import Caller

CARD_SENTENCE = "My card number is 4111 1111 1111 1111."
SECRETS = [re.compile(pattern) for pattern in (
    rb"(?<![0-9a-f.])2468(?![0-9a-f])", rb"(?i)two four six eight", rb"4111[ ,-]?1111", rb"(?i)four one one one")]
SPEECH_LEVEL = 300  # PCM16 amplitude above which a 20 ms frame holds speech, not line silence


def leaks(data: bytes) -> list[str]:
    return [pattern.pattern.decode() for pattern in SECRETS if pattern.search(data)]


def spoken_chunks(pcm16: bytes, rate: int, gap_secs: float = 0.6) -> list[np.ndarray]:
    """The recording cut at its silences, as the gateway would hear it turn by turn (float32)."""
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
    frame = rate // 50
    loud = [np.abs(samples[i:i + frame]).max() * 32768 > SPEECH_LEVEL for i in range(0, len(samples), frame)]
    chunks, start, quiet = [], None, 0
    for index, is_loud in enumerate(loud + [False] * int(gap_secs * 50 + 1)):
        if is_loud:
            start, quiet = (index if start is None else start), 0
        elif start is not None:
            quiet += 1
            if quiet > gap_secs * 50:
                chunks.append(samples[start * frame:(index - quiet + 1) * frame])
                start, quiet = None, 0
    return chunks


def heard_in_recording(folder) -> str:
    whisper = create_engine({"engine": "whisper", "threads": 1})  # the gateway's engine (loaded once)
    pcm16, rate = read_wav(folder / "caller.wav", whisper.sample_rate)
    return " ".join(whisper.transcribe(chunk) for chunk in spoken_chunks(pcm16, rate))


def recording_folder(voice_server, call_id: str):
    return next(voice_server.services.config.recording_dir.glob(f"*-{call_id}"))


async def test_spoken_keyed_and_volunteered_secrets_are_in_no_stored_byte(voice_server):
    card, balance, pin, person = (voice_server.synthesize(text) for text in (
        CARD_SENTENCE, "What's my account balance?", "two four six eight", "I'd like to talk to a person please."))
    with json_logs() as logs:
        async with Caller(voice_server.line("twilio"), answer_timeout=60).dial(f"CA{uuid.uuid4().hex}",
                                                                                CALLER) as caller:
            spoken_call = await voice_server.call_id_of(caller)  # the gateway's own id for the call
            await caller.wait_until_quiet()
            await caller.say(card)  # volunteered, nobody asked
            asked = await caller.say(balance, wait=False)
            await wait_for(lambda: voice_server.tracker(spoken_call).requested_slot == "pin")
            heard_before = len(asked.bot_audio)
            await wait_for(lambda: len(asked.bot_audio) > heard_before)  # the PIN prompt is playing...
            await asyncio.sleep(1.0)
            clears = caller.clears
            answer = await caller.say(pin)  # ... and the caller talks over it
            assert caller.clears > clears and answer.first_bot_audio is not None
            await caller.say(person, wait=False)
            await wait_for(lambda: voice_server.tracker(spoken_call).paused)  # a person takes over, with a summary
        async with Caller(voice_server.line("twilio"), answer_timeout=60).dial(f"CA{uuid.uuid4().hex}",
                                                                                CALLER) as caller:
            keyed_call = await voice_server.call_id_of(caller)
            await caller.say(balance)
            await caller.press("2468#")
        records = [json.dumps(transcript(voice_server, call)).encode() for call in (spoken_call, keyed_call)]

    for call in (spoken_call, keyed_call):
        tracker = voice_server.tracker(call)
        assert tracker.slots["verified"] is True and "balance is" in bot_texts(tracker)
    data = voice_server.data_dir
    trackers = b"".join(path.read_bytes() for path in data.glob("trackers.sqlite3*"))
    assert spoken_call.encode() in trackers and b"[redacted]" in trackers
    assert leaks(trackers) == []
    # the caller hung up while queued: the call left the queue as abandoned, its summary kept in its record
    queued = await queue_record(voice_server, spoken_call)
    assert queued["state"] == "abandoned"
    summary = json.dumps(queued["summary"]).encode()
    assert b"verified" in summary and leaks(summary) == []
    assert leaks(b"".join(path.read_bytes() for path in data.glob("handoff.sqlite3*"))) == []
    call_records = b"".join(path.read_bytes() for path in data.glob("records.sqlite3*"))  # the call history
    assert spoken_call.encode() in call_records and b"[redacted]" in call_records
    assert leaks(call_records) == [] and CALLER.encode() not in call_records and CALLER[1:].encode() not in call_records
    for record in records:
        assert b"[redacted]" in record and leaks(record) == []
    assert spoken_call in logs.getvalue() and leaks(logs.getvalue().encode()) == []

    heard = heard_in_recording(recording_folder(voice_server, spoken_call))
    assert "person" in heard.lower()  # the recording is there, and Whisper hears what may be kept
    digits = re.sub(r"\D", "", normalize_digits(heard))
    assert "2468" not in digits and "4111" not in digits and "1111" not in digits, heard
