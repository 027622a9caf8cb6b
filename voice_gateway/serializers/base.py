"""The serializer interface, and the checks that all protocols share."""
from __future__ import annotations

import json
from typing import Protocol

from voice_gateway.frames import InboundFrame, OutboundFrame, ProtocolError

MAX_FRAME_SECS = 1.0  # one inbound audio frame may carry at most this much audio (telephony sends 20 ms)
MAX_ID_CHARS = 128  # a client's own ids (call id, stream id): longer ones end the call


class FrameSerializer(Protocol):
    sample_rate: int  # of the call's audio, known after CallStarted

    def deserialize(self, message: str | bytes) -> list[InboundFrame]:
        """Frames from one wire message; raises ProtocolError for a message that breaks the protocol."""

    def serialize(self, frame: OutboundFrame) -> str | bytes | None:
        """The wire message for a frame, or None where the protocol has no such message."""


def parse_json_object(message: str | bytes) -> dict:
    try:
        data = json.loads(message)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProtocolError(f"message is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ProtocolError("message must be a JSON object")
    return data


def object_field(data: dict, key: str) -> dict:
    """``data[key]`` when it is a JSON object (absent or null: empty); anything else breaks the protocol."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"'{key}' must be an object")
    return value


def check_audio_size(size: int, sample_rate: int, bytes_per_sample: int) -> None:
    if size % bytes_per_sample:
        raise ProtocolError(f"truncated audio frame: {size} bytes is not a whole number of samples")
    if size > MAX_FRAME_SECS * sample_rate * bytes_per_sample:
        raise ProtocolError(f"oversized audio frame: {size} bytes (at most {MAX_FRAME_SECS:g} s of audio)")


def client_id(value, name: str) -> str | None:
    """An id the client chose (kept as a reference only): a string of at most MAX_ID_CHARS, or absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"'{name}' must be a string")
    if len(value) > MAX_ID_CHARS:
        raise ProtocolError(f"'{name}' is longer than {MAX_ID_CHARS} characters")
    return value
