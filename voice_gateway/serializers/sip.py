"""SIP calls: what the SIP endpoint reports about one dialog and its RTP, as pipeline frames.

In: the answered INVITE (``SipCallOpened``), decoded caller audio (PCM16, 8 kHz, 20 ms), RFC 4733
keys (``SipKey``), the caller's BYE or CANCEL (``SipHangUp``). A caller that offers no
telephone-events gets in-band detection of keypad tones instead. Out: bot audio as PCM16 for the RTP
leg; SIP has no marks or clear messages (the gateway paces its audio, so stopping is enough).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from voice_gateway.frames import (
    BotAudio, CallEnded, CallerAudio, CallStarted, ClearPlayback, Event, InboundFrame, KeyPressed, Mark,
    OutboundFrame, ProtocolError,
)
from voice_gateway.serializers.base import check_audio_size

SAMPLE_RATE = 8000  # G.711


@dataclass
class SipCallOpened:
    sip_call_id: str  # the call's reference; the gateway names the call itself
    caller_number: str | None
    references: dict = field(default_factory=dict)  # peer, transport, codec


@dataclass
class SipKey:
    digit: str


@dataclass
class SipHangUp:
    reason: str


SipEvent = SipCallOpened | SipKey | SipHangUp | bytes


class SipSerializer:
    sample_rate = SAMPLE_RATE

    def __init__(self, in_band_dtmf: bool = False):
        self.in_band_dtmf = in_band_dtmf  # the caller offered no telephone-events: listen for tones

    def deserialize(self, message: SipEvent) -> list[InboundFrame]:
        if isinstance(message, bytes):
            check_audio_size(len(message), SAMPLE_RATE, 2)
            return [CallerAudio(message)]
        if isinstance(message, SipKey):
            return [KeyPressed(message.digit)]
        if isinstance(message, SipHangUp):
            return [CallEnded(message.reason)]
        if isinstance(message, SipCallOpened):
            return [CallStarted(external_id=message.sip_call_id, sample_rate=SAMPLE_RATE,
                                caller_number=message.caller_number, extra=message.references)]
        raise ProtocolError(f"unknown SIP event {type(message).__name__}")

    def serialize(self, frame: OutboundFrame) -> bytes | None:
        if isinstance(frame, BotAudio):
            return frame.pcm16
        if isinstance(frame, (Mark, ClearPlayback, Event)):
            return None
        raise TypeError(frame)
