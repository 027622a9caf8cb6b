"""Asterisk AudioSocket over TCP: type byte, 16-bit big-endian length, payload.

Kinds: 0x00 hang up, 0x01 call UUID (first message), 0x03 DTMF digit (newer Asterisk), 0x10 signed
linear 8 kHz audio (both directions), 0xff error. Older Asterisk sends no DTMF messages, so the
pipeline also detects keypad tones in the audio (``in_band_dtmf``).
"""
from __future__ import annotations

import struct
import uuid

from voice_gateway.frames import (
    BotAudio, CallEnded, CallerAudio, CallStarted, ClearPlayback, Event, InboundFrame, KeyPressed, Mark,
    OutboundFrame, ProtocolError,
)
from voice_gateway.serializers.base import check_audio_size

SAMPLE_RATE = 8000
HANGUP, UUID, DTMF, AUDIO, ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
HEADER = struct.Struct(">BH")


def pack(kind: int, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


class AudioSocketSerializer:
    sample_rate = SAMPLE_RATE
    in_band_dtmf = True

    def __init__(self):
        self.started = False

    def deserialize(self, message: bytes) -> list[InboundFrame]:
        """``message`` is one whole AudioSocket message (header included)."""
        if len(message) < HEADER.size:
            raise ProtocolError(f"truncated AudioSocket header: {len(message)} of {HEADER.size} bytes")
        kind, length = HEADER.unpack_from(message)
        payload = message[HEADER.size:]
        if len(payload) != length:
            raise ProtocolError(f"truncated AudioSocket message: {len(payload)} of {length} bytes")
        if kind == UUID:
            if len(payload) != 16:
                raise ProtocolError(f"call UUID must be 16 bytes, got {len(payload)}")
            self.started = True
            return [CallStarted(external_id=str(uuid.UUID(bytes=payload)), sample_rate=SAMPLE_RATE)]
        if not self.started:
            raise ProtocolError(f"message kind 0x{kind:02x} before the call UUID")
        if kind == AUDIO:
            check_audio_size(len(payload), SAMPLE_RATE, 2)
            return [CallerAudio(payload)]
        if kind == DTMF:
            return [KeyPressed(payload.decode("ascii", "replace")[:1])]
        if kind == HANGUP:
            return [CallEnded("caller hung up")]
        if kind == ERROR:
            return [CallEnded(f"Asterisk reported an error ({payload.hex() or 'no code'})")]
        raise ProtocolError(f"unknown AudioSocket message kind 0x{kind:02x}")

    def serialize(self, frame: OutboundFrame) -> bytes | None:
        if isinstance(frame, BotAudio):
            return pack(AUDIO, frame.pcm16)
        if isinstance(frame, (Mark, ClearPlayback, Event)):
            return None  # AudioSocket has no marks; the gateway paces audio, so stopping is enough
        raise TypeError(frame)
