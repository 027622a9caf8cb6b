"""What an interruption strategy sees: the caller's speech audio and the partial transcript."""
from __future__ import annotations


class BaseInterruptionStrategy:
    def append_audio(self, pcm16: bytes, sample_rate: int) -> None:
        """Speech audio of the caller's current utterance (VAD said speech)."""

    def append_text(self, text: str) -> None:
        """The latest partial transcript of the current utterance (replaces the previous one)."""

    def should_interrupt(self) -> bool:
        raise NotImplementedError

    def reset(self) -> None:
        """A new utterance starts."""
