"""Twilio Media Streams: JSON events, base64 8 kHz mu-law audio both ways.

In: ``connected``, ``start``, ``media``, ``dtmf``, ``mark`` (a mark we sent has been played), ``stop``.
Out: ``media``, ``mark``, ``clear`` (drop what is buffered: barge-in). Telnyx, Jambonz and PBX bridges
speak the same protocol.
"""
from __future__ import annotations

import base64
import binascii
import json
import uuid

from voice_gateway.audio import mulaw
from voice_gateway.frames import (
    BotAudio, CallEnded, CallerAudio, CallStarted, ClearPlayback, Event, InboundFrame, KeyPressed, Mark,
    OutboundFrame, PlaybackMark, ProtocolError,
)
from voice_gateway.serializers.base import check_audio_size, client_id, object_field, parse_json_object

SAMPLE_RATE = 8000


class TwilioSerializer:
    sample_rate = SAMPLE_RATE

    def __init__(self):
        self.stream_sid: str | None = None

    def deserialize(self, message: str | bytes) -> list[InboundFrame]:
        if isinstance(message, bytes):
            raise ProtocolError("Twilio Media Streams sends text messages only, got binary")
        data = parse_json_object(message)
        event = data.get("event")
        if event == "connected":
            return []
        if event == "start":
            return [self._start(data)]
        if self.stream_sid is None:
            raise ProtocolError(f"'{event}' before 'start'")
        if event == "media":
            media = object_field(data, "media")
            if media.get("track", "inbound") != "inbound":
                return []
            return [CallerAudio(mulaw.decode(_payload(media)))]
        if event == "dtmf":
            digit = str(object_field(data, "dtmf").get("digit", ""))
            if len(digit) != 1:
                raise ProtocolError(f"dtmf event without a single digit: {digit!r}")
            return [KeyPressed(digit)]
        if event == "mark":
            return [PlaybackMark(str(object_field(data, "mark").get("name", "")))]
        if event == "stop":
            return [CallEnded("caller hung up")]
        raise ProtocolError(f"unknown event {event!r}")

    def _start(self, data: dict) -> CallStarted:
        start = data.get("start")
        if not isinstance(start, dict):
            raise ProtocolError("'start' event without a 'start' object")
        media_format = object_field(start, "mediaFormat")
        encoding = media_format.get("encoding", "audio/x-mulaw")
        rate = media_format.get("sampleRate", SAMPLE_RATE)
        if encoding != "audio/x-mulaw" or rate != SAMPLE_RATE or media_format.get("channels", 1) != 1:
            raise ProtocolError(f"unsupported media format {media_format} (expected audio/x-mulaw, 8000 Hz, mono)")
        self.stream_sid = client_id(start.get("streamSid") or data.get("streamSid"), "streamSid") or uuid.uuid4().hex
        parameters = object_field(start, "customParameters")
        caller = client_id(parameters.get("caller_number") or parameters.get("From"), "caller_number")
        return CallStarted(external_id=client_id(start.get("callSid"), "callSid") or self.stream_sid,
                           sample_rate=SAMPLE_RATE, caller_number=caller, extra={"stream_sid": self.stream_sid})

    def serialize(self, frame: OutboundFrame) -> str | None:
        if isinstance(frame, BotAudio):
            payload = base64.b64encode(mulaw.encode(frame.pcm16)).decode()
            return json.dumps({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}})
        if isinstance(frame, Mark):
            return json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": frame.name}})
        if isinstance(frame, ClearPlayback):
            return json.dumps({"event": "clear", "streamSid": self.stream_sid})
        if isinstance(frame, Event):
            return None
        raise TypeError(frame)


def _payload(media: dict) -> bytes:
    payload = media.get("payload")
    if not isinstance(payload, str):
        raise ProtocolError("media event without a base64 'payload'")
    check_audio_size(len(payload) * 3 // 4, SAMPLE_RATE, 1)  # cheap bound before decoding
    try:
        audio = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("media payload is not valid base64 (truncated frame?)") from None
    check_audio_size(len(audio), SAMPLE_RATE, 1)
    return audio
