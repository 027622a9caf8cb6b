"""The gateway's small pieces on their own: keypad, barge-in strategies, end of turn, codecs, recordings."""
from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np
import pytest

from voice_gateway.audio import mulaw
from voice_gateway.audio.resample import StreamResampler, resample
from voice_gateway.frames import ProtocolError
from voice_gateway.interruptions import MinDurationInterruptionStrategy, MinWordsInterruptionStrategy
from voice_gateway.keypad import KeypadAction, KeypadCollector
from voice_gateway.config import KeypadConfig
from voice_gateway.no_input import NoInputConfig, NoInputPolicy
from voice_gateway.recording import CallRecorder, purge_old_recordings
from voice_gateway.serializers.helpline_pcm import HelplinePcmSerializer
from voice_gateway.serializers.twilio import TwilioSerializer
from voice_gateway.speech import first_clauses
from voice_gateway.turns.silence import SilenceTurnDetector, TurnEvent


def test_keypad_digits_agent_and_repeat():
    keys = KeypadConfig()
    keypad = KeypadCollector(keys.agent_key, keys.repeat_key, keys.submit_key)
    assert keypad.press("0", expecting_digits=False) == KeypadAction("agent")
    assert [keypad.press(k, True) for k in "0472"] == [None] * 4
    assert keypad.press("#", True) == KeypadAction("digits", "0472")  # a number may start with 0
    keypad.press("0", True)
    assert keypad.timeout() == KeypadAction("agent")  # a lone 0 still means a person
    keypad.press("5", True)
    assert keypad.press("*", True) == KeypadAction("repeat") and not keypad.collecting
    assert keypad.press("#", False) is None


def test_backchannels_do_not_interrupt_but_words_and_long_speech_do():
    words = MinWordsInterruptionStrategy(2)
    words.append_text("uh-huh okay")
    assert not words.should_interrupt()
    words.append_text("wait I have a question")
    assert words.should_interrupt()
    duration = MinDurationInterruptionStrategy(0.6)
    duration.append_audio(bytes(16000 * 2 // 4), 16000)  # 0.25 s: a cough
    assert not duration.should_interrupt()
    duration.append_audio(bytes(16000 * 2 // 2), 16000)
    assert duration.should_interrupt()
    duration.reset()
    assert not duration.should_interrupt()


def test_turn_starts_after_speech_and_ends_after_silence():
    turns = SilenceTurnDetector(start_secs=0.064, silence_secs=0.5)
    window = 0.032
    assert turns.update(True, window) is None  # one window: could be a click
    assert turns.update(True, window) is TurnEvent.STARTED
    events = [turns.update(False, window) for _ in range(15)]
    assert events[-1] is None and turns.in_turn
    assert turns.update(True, window) is None  # a pause, not the end
    events = [turns.update(False, window) for _ in range(16)]
    assert events[-1] is TurnEvent.ENDED and not turns.in_turn


def test_mulaw_round_trip_and_resampling():
    tone = (np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000) * 12000).astype("<i2")
    decoded = np.frombuffer(mulaw.decode(mulaw.encode(tone.tobytes())), dtype="<i2")
    assert np.max(np.abs(decoded.astype(int) - tone)) < 400  # G.711 step size at this level
    assert len(resample(tone.tobytes(), 8000, 16000)) == 2 * len(tone.tobytes())
    stream = StreamResampler(8000, 16000)
    chunks = b"".join(stream.process(tone[i:i + 160].tobytes()) for i in range(0, 8000, 160))
    assert 0 <= 32000 - len(chunks) < 1000  # the filter holds back less than 30 ms


def test_mulaw_encoding_of_every_sample_agrees_with_the_standard_library():
    """Python 3.11's ``audioop`` (G.711 as Sun's reference code does it) as an independent reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    every = np.arange(-32768, 32768, dtype="<i2").tobytes()
    ours = np.frombuffer(mulaw.encode(every), np.uint8).astype(int)
    reference = np.frombuffer(audioop.lin2ulaw(every, 2), np.uint8).astype(int)
    assert np.abs(ours - reference).max() <= 1  # neighbouring codes at segment edges (rounding)
    assert (ours == reference).mean() > 0.99
    assert mulaw.decode(bytes(range(256))) == audioop.ulaw2lin(bytes(range(256)), 2)


@pytest.mark.parametrize("message, error", [
    ('{"event": "start", "start": {"mediaFormat": {"encoding": "audio/l16", "sampleRate": 8000}}}', "unsupported"),
    ('{"event": "media", "media": {"payload": ""}}', "'media' before 'start'"),
    ("[1, 2]", "must be a JSON object"),
    (b"\x00\x01", "binary"),
])
def test_twilio_serializer_refuses_bad_messages(message, error):
    with pytest.raises(ProtocolError, match=error):
        TwilioSerializer().deserialize(message)


def test_helpline_serializer_refuses_a_second_start_and_bad_keys():
    serializer = HelplinePcmSerializer()
    serializer.deserialize('{"event": "start", "sample_rate": 16000}')
    with pytest.raises(ProtocolError, match="second"):
        serializer.deserialize('{"event": "start", "sample_rate": 16000}')
    with pytest.raises(ProtocolError, match="dtmf"):
        serializer.deserialize('{"event": "dtmf", "digit": "55"}')


def test_no_input_reprompts_then_gives_up():
    policy = NoInputPolicy(NoInputConfig(reprompts=2, then="hang_up"))
    assert [policy.on_silence() for _ in range(3)] == ["reprompt", "reprompt", "hang_up"]
    policy.on_input()
    assert policy.on_silence() == "reprompt"
    with pytest.raises(ValueError, match="'handoff' or 'hang_up'"):
        NoInputConfig(then="sing")


def test_recording_masks_sensitive_turns_and_old_recordings_are_deleted(tmp_path):
    recorder = CallRecorder(tmp_path, "CA/1", 8000)
    recorder.caller_audio(b"\x10\x00" * 160, masked=True)
    recorder.bot_audio(b"\x20\x00" * 160)
    recorder.line("caller", "two four six eight", masked=True)
    folder = recorder.close("caller hung up")
    transcript = json.loads((folder / "transcript.json").read_text())
    assert transcript["lines"][0]["text"] == "[redacted]" and transcript["ended_reason"] == "caller hung up"
    assert b"\x10\x00" not in (folder / "caller.wav").read_bytes()[44:]
    old = time.time() - 40 * 86400
    os.utime(folder, (old, old))
    assert purge_old_recordings(tmp_path, retention_days=30) == 1 and not folder.exists()


def test_the_transcript_is_on_disk_after_every_line_and_secrets_heard_late_are_silenced(tmp_path):
    """A crash loses at most the turn in progress; a card number recognised after the fact leaves no audio."""
    recorder = CallRecorder(tmp_path, "CA2", 8000)
    folder = recorder.folder
    assert json.loads((folder / "transcript.json").read_text())["lines"] == []
    recorder.line("bot", "How can I help?")
    recorder.caller_audio(b"\x10\x00" * 800)
    start = recorder.caller_samples
    recorder.caller_audio(b"\x20\x00" * 8000)  # one second holding a card number
    end = recorder.caller_samples
    recorder.caller_audio(b"\x30\x00" * 4000)
    recorder.silence_caller(start, end)
    recorder.line("caller", "my card number is 4111 1111 1111 1111")
    written = json.loads((folder / "transcript.json").read_text())  # the call is still going
    assert written["ended_reason"] is None
    assert [line["text"] for line in written["lines"]] == ["How can I help?", "my card number is [redacted]"]
    recorder.close("caller hung up")
    audio = (folder / "caller.wav").read_bytes()[44:]
    assert b"\x20\x00" not in audio and b"\x30\x00" in audio  # the margin takes a little of what follows
    assert audio.count(b"\x30\x00") >= 4000 - int(0.25 * 8000)
    assert json.loads((folder / "transcript.json").read_text())["ended_reason"] == "caller hung up"


def test_a_long_first_sentence_is_split_at_its_first_comma():
    sentence = "Your order shipped with UPS on Monday, and should arrive Friday, November twenty seventh."
    assert first_clauses(sentence) == ["Your order shipped with UPS on Monday,",
                                       "and should arrive Friday, November twenty seventh."]
    assert first_clauses("Sure, thanks.") == ["Sure, thanks."]


async def test_a_digits_turn_is_complete_once_the_early_recognition_holds_every_digit():
    import asyncio

    from voice_gateway.turns.complete_digits import holds_all_digits

    loop = asyncio.get_running_loop()
    pending, heard, short, failed = (loop.create_future() for _ in range(4))
    heard.set_result("4 7 2 9 1 8")
    short.set_result("4 7 2")
    failed.set_exception(RuntimeError("decoder crashed"))
    assert holds_all_digits(heard, 6)
    assert not holds_all_digits(short, 6) and holds_all_digits(short, 3)
    assert not holds_all_digits(pending, 1) and not holds_all_digits(None, 1) and not holds_all_digits(failed, 1)
