"""A call's two recorded legs as one stereo WAV: the caller on the left, the bot (and agent) on the right.

The recorder writes both legs time-aligned, at the call's rate, padded to the same end; a leg
that is missing (or shorter) is silence, so the player's clock is the call's clock either way.
"""
from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np


def _read(path: Path | None) -> tuple[np.ndarray, int | None]:
    if path is None:
        return np.zeros(0, dtype="<i2"), None
    with wave.open(str(path)) as source:
        if source.getsampwidth() != 2 or source.getnchannels() != 1:
            raise ValueError(f"{path.name}: expected mono 16-bit audio")
        return np.frombuffer(source.readframes(source.getnframes()), dtype="<i2"), source.getframerate()


def stereo_wav(left: Path | None, right: Path | None) -> bytes:
    (caller, rate_l), (bot, rate_r) = _read(left), _read(right)
    rate = rate_l or rate_r or 8000
    if rate_l and rate_r and rate_l != rate_r:
        raise ValueError("the two legs were recorded at different rates")
    frames = np.zeros((max(len(caller), len(bot)), 2), dtype="<i2")
    frames[:len(caller), 0] = caller
    frames[:len(bot), 1] = bot
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(2)
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(frames.tobytes())
    return out.getvalue()
