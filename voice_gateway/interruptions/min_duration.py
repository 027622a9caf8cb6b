"""Interrupt after enough speech: a cough or a short "mm" stays below it."""
from __future__ import annotations

from voice_gateway.interruptions.base import BaseInterruptionStrategy


class MinDurationInterruptionStrategy(BaseInterruptionStrategy):
    def __init__(self, min_secs: float):
        self.min_secs = min_secs
        self._secs = 0.0

    def append_audio(self, pcm16: bytes, sample_rate: int) -> None:
        self._secs += len(pcm16) / 2 / sample_rate

    def should_interrupt(self) -> bool:
        return self._secs >= self.min_secs

    def reset(self) -> None:
        self._secs = 0.0
