"""The three telephony serializers under hypothesis: whatever a peer sends, the only failure is ProtocolError.

A ProtocolError closes only that call with a clear reason (tests/voice/test_bad_input.py); any other
exception would be a bug that reaches the connection handler. Messages are drawn both as raw
bytes/text and as near-valid protocol messages with fields of every JSON type, before and after a
valid start. Where a protocol carries audio both ways, what the gateway sends decodes back to the
same samples (AudioSocket, Helpline PCM) or to mu-law's rounding of them (Twilio).
"""
from __future__ import annotations

import base64
import json
import struct

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from voice_gateway.audio import mulaw
from voice_gateway.frames import BotAudio, CallStarted, ClearPlayback, Event, Mark, ProtocolError
from voice_gateway.serializers.audiosocket import AUDIO, DTMF, ERROR, HANGUP, UUID, AudioSocketSerializer, pack
from voice_gateway.serializers.helpline_pcm import HelplinePcmSerializer
from voice_gateway.serializers.twilio import TwilioSerializer

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
samples = st.lists(st.integers(-32768, 32767), max_size=400).map(lambda s: struct.pack(f"<{len(s)}h", *s))


def only_protocol_errors(serializer, messages) -> None:
    for message in messages:
        try:
            frames = serializer.deserialize(message)
        except ProtocolError as error:
            assert str(error)  # the close reason the caller's connection gets
            continue
        assert isinstance(frames, list)


def twilio_messages():
    events = st.sampled_from(["connected", "start", "media", "dtmf", "mark", "stop", "other"]) | json_values
    near_valid = st.fixed_dictionaries({"event": events}, optional={
        "start": json_values | st.fixed_dictionaries({}, optional={
            "streamSid": json_values, "callSid": json_values, "customParameters": json_values,
            "mediaFormat": json_values | st.fixed_dictionaries({}, optional={
                "encoding": st.sampled_from(["audio/x-mulaw", "audio/l16"]) | json_values,
                "sampleRate": st.sampled_from([8000, 16000]) | json_values,
                "channels": st.sampled_from([1, 2]) | json_values})}),
        "media": json_values | st.fixed_dictionaries({}, optional={
            "payload": json_values | st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
            "track": st.sampled_from(["inbound", "outbound"]) | json_values}),
        "dtmf": json_values | st.fixed_dictionaries({}, optional={"digit": json_values}),
        "mark": json_values | st.fixed_dictionaries({}, optional={"name": json_values}),
        "streamSid": json_values}).map(json.dumps)
    return st.lists(near_valid | st.text(max_size=50) | st.binary(max_size=50), max_size=8)


@FUZZ
@given(twilio_messages())
def test_twilio_fails_only_with_protocol_errors(messages):
    only_protocol_errors(TwilioSerializer(), messages)
    started = TwilioSerializer()
    started.deserialize(json.dumps({"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1"}}))
    only_protocol_errors(started, messages)


@FUZZ
@given(samples)
def test_twilio_audio_round_trips_through_mulaw(pcm):
    sender, receiver = TwilioSerializer(), TwilioSerializer()
    for serializer in (sender, receiver):
        serializer.deserialize(json.dumps({"event": "start", "start": {"streamSid": "MZ1"}}))
    sent = json.loads(sender.serialize(BotAudio(pcm)))
    assert sent["streamSid"] == "MZ1"
    [heard] = receiver.deserialize(json.dumps({"event": "media", "media": sent["media"]}))
    assert heard.pcm16 == mulaw.decode(mulaw.encode(pcm))
    assert json.loads(sender.serialize(Mark("m1")))["mark"] == {"name": "m1"}
    assert json.loads(sender.serialize(ClearPlayback()))["event"] == "clear"


def pcm_messages():
    control = st.fixed_dictionaries({"event": st.sampled_from(["start", "dtmf", "mark", "stop", "x"]) | json_values},
                                    optional={"sample_rate": st.sampled_from([8000, 16000, 8000.0]) | json_values,
                                              "call_id": json_values, "digit": json_values,
                                              "name": json_values}).map(json.dumps)
    return st.lists(control | st.binary(max_size=40000) | st.text(max_size=50), max_size=8)


@FUZZ
@given(pcm_messages())
def test_helpline_pcm_fails_only_with_protocol_errors(messages):
    only_protocol_errors(HelplinePcmSerializer(), messages)
    started = HelplinePcmSerializer()
    started.deserialize(json.dumps({"event": "start", "sample_rate": 16000}))
    only_protocol_errors(started, messages)


@FUZZ
@given(json_values)
@example(8000.0)
@example(True)
def test_helpline_pcm_sample_rate_is_an_integer_rate_or_refused(rate):
    serializer = HelplinePcmSerializer()
    try:
        [started] = serializer.deserialize(json.dumps({"event": "start", "sample_rate": rate}))
    except ProtocolError:
        return
    assert type(started.sample_rate) is int and started.sample_rate in (8000, 16000)


@FUZZ
@given(samples, st.sampled_from([8000, 16000]), json_values)
def test_helpline_pcm_round_trip(pcm, rate, event):
    receiver = HelplinePcmSerializer()
    [started] = receiver.deserialize(json.dumps({"event": "start", "sample_rate": rate, "call_id": "c1"}))
    assert isinstance(started, CallStarted) and started.sample_rate == rate and started.external_id == "c1"
    sender = HelplinePcmSerializer()
    [heard] = receiver.deserialize(sender.serialize(BotAudio(pcm)))
    assert heard.pcm16 == pcm
    [mark] = receiver.deserialize(sender.serialize(Mark("m7")))
    assert mark.name == "m7"
    assert json.loads(sender.serialize(Event({"event": "note", "value": event}))) == {"event": "note", "value": event}


def audiosocket_messages():
    kinds = st.sampled_from([HANGUP, UUID, DTMF, AUDIO, ERROR, 0x02, 0x7F]) | st.integers(0, 255)
    well_framed = st.builds(lambda kind, payload: pack(kind, payload), kinds, st.binary(max_size=400))
    mis_framed = st.builds(lambda kind, length, payload: struct.pack(">BH", kind, length) + payload,
                           kinds, st.integers(0, 65535), st.binary(max_size=40))
    return st.lists(well_framed | mis_framed | st.binary(max_size=10), max_size=8)


@FUZZ
@given(audiosocket_messages())
def test_audiosocket_fails_only_with_protocol_errors(messages):
    only_protocol_errors(AudioSocketSerializer(), messages)
    started = AudioSocketSerializer()
    started.deserialize(pack(UUID, bytes(range(16))))
    only_protocol_errors(started, messages)


@FUZZ
@given(samples.filter(lambda pcm: len(pcm) <= 16000), st.binary(min_size=16, max_size=16))
def test_audiosocket_round_trip(pcm, call_uuid):
    receiver = AudioSocketSerializer()
    [started] = receiver.deserialize(pack(UUID, call_uuid))
    assert started.external_id.replace("-", "") == call_uuid.hex()
    sender = AudioSocketSerializer()
    [heard] = receiver.deserialize(sender.serialize(BotAudio(pcm)))
    assert heard.pcm16 == pcm
    assert sender.serialize(Mark("m")) is None and sender.serialize(ClearPlayback()) is None
