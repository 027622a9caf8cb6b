"""Helpline's own protocol: JSON control messages and binary little-endian PCM16 frames at 8 or 16 kHz.

Documented in docs/voice_protocol.md. The browser softphone and `helpline call --protocol helpline`
speak it. Besides audio, the gateway sends the call's id, transcripts and the reason a call ended as
JSON events.
"""
from __future__ import annotations

import json

from voice_gateway.frames import (
    BotAudio, CallEnded, CallerAudio, CallStarted, ClearPlayback, Event, InboundFrame, KeyPressed, Mark,
    OutboundFrame, PlaybackMark, ProtocolError,
)
from voice_gateway.serializers.base import check_audio_size, client_id, parse_json_object

SAMPLE_RATES = (8000, 16000)


class HelplinePcmSerializer:
    def __init__(self):
        self.sample_rate: int | None = None

    def deserialize(self, message: str | bytes) -> list[InboundFrame]:
        if isinstance(message, bytes):
            if self.sample_rate is None:
                raise ProtocolError("audio before 'start'")
            check_audio_size(len(message), self.sample_rate, 2)
            return [CallerAudio(message)]
        data = parse_json_object(message)
        event = data.get("event")
        if event == "start":
            return [self._start(data)]
        if self.sample_rate is None:
            raise ProtocolError(f"'{event}' before 'start'")
        if event == "dtmf":
            digit = data.get("digit")
            if not isinstance(digit, str) or len(digit) != 1 or digit not in "0123456789*#ABCD":
                raise ProtocolError(f"dtmf needs one keypad 'digit', got {digit!r}")
            return [KeyPressed(digit)]
        if event == "mark":
            return [PlaybackMark(str(data.get("name", "")))]
        if event == "stop":
            return [CallEnded("caller hung up")]
        raise ProtocolError(f"unknown event {event!r}")

    def _start(self, data: dict) -> CallStarted:
        if self.sample_rate is not None:
            raise ProtocolError("second 'start' on one call")
        rate = data.get("sample_rate")
        if type(rate) is not int or rate not in SAMPLE_RATES:  # 8000.0 or true are not rates
            raise ProtocolError(f"unsupported sample_rate {rate!r} (use 8000 or 16000)")
        self.sample_rate = rate
        # The caller number is not read from here: the voice token that opened the connection says it.
        return CallStarted(external_id=client_id(data.get("call_id"), "call_id"), sample_rate=rate)

    def serialize(self, frame: OutboundFrame) -> str | bytes | None:
        if isinstance(frame, BotAudio):
            return frame.pcm16
        if isinstance(frame, Mark):
            return json.dumps({"event": "mark", "name": frame.name})
        if isinstance(frame, ClearPlayback):
            return json.dumps({"event": "clear"})
        if isinstance(frame, Event):
            return json.dumps(frame.data)
        raise TypeError(frame)
