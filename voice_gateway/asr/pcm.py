"""PCM16 bytes <-> float samples, the form the recognisers' native APIs take."""
from __future__ import annotations

import numpy as np


def to_float32(pcm16: bytes) -> np.ndarray:
    """Mono 16-bit little-endian PCM as float32 samples in [-1, 1)."""
    return np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0


def rms(pcm16: bytes) -> float:
    """Root-mean-square level of PCM16 on the same [0, 1) scale (0 for no audio)."""
    samples = to_float32(pcm16)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0
