"""What flows between a telephony serializer and the call pipeline (Pipecat's frames, reduced to a call).

Inbound: ``CallStarted``, ``CallerAudio``, ``KeyPressed``, ``PlaybackMark``, ``CallEnded``.
Outbound: ``BotAudio``, ``ClearPlayback``, ``Mark``, ``Event`` (protocol-specific notices).
Audio is mono PCM16 at the call's sample rate.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class ProtocolError(Exception):
    """The other end broke the protocol: the call ends with this reason (other calls go on)."""


@dataclass
class CallStarted:
    """A call begins. ``external_id`` is the carrier's own id for it (Twilio's callSid, the AudioSocket
    UUID, a client's ``call_id``): a reference kept with the call, never its conversation id."""
    external_id: str | None
    sample_rate: int
    caller_number: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class CallerAudio:
    pcm16: bytes


@dataclass
class KeyPressed:
    digit: str


@dataclass
class PlaybackMark:
    name: str


@dataclass
class CallEnded:
    reason: str


@dataclass
class BotAudio:
    pcm16: bytes


@dataclass
class ClearPlayback:
    pass


@dataclass
class Mark:
    name: str


@dataclass
class Event:
    """A notice for clients that understand it (Helpline protocol): transcripts, hang-up reason."""
    data: dict


InboundFrame = CallStarted | CallerAudio | KeyPressed | PlaybackMark | CallEnded
OutboundFrame = BotAudio | ClearPlayback | Mark | Event
