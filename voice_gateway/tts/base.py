"""The text-to-speech port: what the call pipeline needs to speak the bot's replies.

``synthesize`` is synchronous and CPU-bound (the gateway runs it in a worker thread) and returns
mono 16-bit PCM. Pass ``sample_rate`` to get the call's rate (8000 for phone lines); without it the
voice's native rate (``sample_rate``) is used. Text is normalised for speech first ("$42.50" ->
"forty-two dollars and fifty cents"); ``sentences`` splits a reply so the gateway can start
playing the first sentence while the rest is synthesised.
"""
from __future__ import annotations

from typing import Protocol


class SpeechSynthesizer(Protocol):
    name: str
    sample_rate: int  # the voice's native rate

    def synthesize(self, text: str, sample_rate: int | None = None) -> bytes:
        """Mono PCM16 of ``text`` spoken, at ``sample_rate`` (default: the native rate)."""

    def sentences(self, text: str) -> list[str]:
        """``text`` split into sentences, for sentence-by-sentence synthesis."""


class TTSConfigError(ValueError):
    """The ``helpline: voice: tts:`` section names an unknown engine or a missing voice."""


def create_synthesizer(config: dict | None = None) -> SpeechSynthesizer:
    """Build the synthesizer of config.yml ``helpline: voice: tts:`` (cached: one voice per process)."""
    from voice_gateway.tts.piper_tts import create_synthesizer as _create

    return _create(dict(config or {}))
