"""Mixing one side stream into a main stream of PCM16 frames, for a supervisor on a live call.

A phone leg and a desk microphone both send audio on their own clocks. The main stream (the caller's
frames towards the agent, the agent's frames towards the caller) keeps its timing: each of its frames
leaves at once with the side audio that arrived meanwhile added in. Side audio that has waited longer
than ``max_lag`` (the main stream went quiet: a desk without a microphone) leaves on its own, so a
whisper or a barge-in is never held back for good nor piled up.
"""
from __future__ import annotations

import numpy as np

RATE = 16000  # the bridge's rate: caller audio from the gateway and desk microphones


def as_samples(pcm16: bytes, sample_rate: int, rate: int = RATE) -> np.ndarray:
    """PCM16 bytes as int32 samples at ``rate`` (linear resampling where the rates differ)."""
    samples = np.frombuffer(pcm16[:len(pcm16) // 2 * 2], dtype="<i2").astype(np.int32)
    if sample_rate == rate or not len(samples):
        return samples
    count = max(1, round(len(samples) * rate / sample_rate))
    return np.interp(np.linspace(0, len(samples) - 1, count), np.arange(len(samples)), samples).astype(np.int32)


def to_pcm16(samples: np.ndarray) -> bytes:
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


class Mixer:
    def __init__(self, max_lag: float = 0.2, rate: int = RATE):
        self.rate = rate
        self.max_lag_samples = int(max_lag * rate)
        self._pending = np.zeros(0, dtype=np.int32)

    def add_side(self, pcm16: bytes, sample_rate: int) -> bytes:
        """Queue side audio; returns what has waited too long, to be sent alone (often nothing)."""
        self._pending = np.concatenate([self._pending, as_samples(pcm16, sample_rate, self.rate)])
        excess = len(self._pending) - self.max_lag_samples
        if excess <= 0:
            return b""
        overdue, self._pending = self._pending[:excess], self._pending[excess:]
        return to_pcm16(overdue)

    def mix(self, pcm16: bytes, sample_rate: int) -> bytes:
        """A main frame (at the mixer's rate) with the side audio that waited for it added in."""
        main = as_samples(pcm16, sample_rate, self.rate)
        if not len(self._pending):
            return pcm16 if sample_rate == self.rate else to_pcm16(main)
        take = min(len(main), len(self._pending))
        main[:take] += self._pending[:take]
        self._pending = self._pending[take:]
        return to_pcm16(main)

    def clear(self) -> None:
        self._pending = np.zeros(0, dtype=np.int32)
