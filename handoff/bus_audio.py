"""Audio frames on the store's bus (which carries JSON): how caller, agent and supervisor audio cross processes."""
from __future__ import annotations

import base64


def encode_audio(call_id: str | None, pcm16: bytes, sample_rate: int, **extra) -> dict:
    return {"call_id": call_id, "sample_rate": sample_rate, "pcm16": base64.b64encode(pcm16).decode("ascii"), **extra}


def decode_audio(frame: dict) -> tuple[bytes, int]:
    return base64.b64decode(frame["pcm16"]), int(frame["sample_rate"])
