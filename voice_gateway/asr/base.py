"""The speech-recognition port: what the call pipeline needs from any ASR engine.

The gateway holds one ``ASREngine`` per process (models load once and are shared by all calls) and
asks it for a fresh ``SpeechRecognizer`` per caller utterance. Methods are synchronous and
CPU-bound; the gateway runs them in a worker thread. One recognizer is used by one thread at a time.
"""
from __future__ import annotations

from typing import Protocol

NORMAL = "normal"
DIGITS = "digits"  # the bot asks for an order number, PIN, ...: recognise spoken digits only
MODES = (NORMAL, DIGITS)


class SpeechRecognizer(Protocol):
    """Recognises one utterance, fed as it arrives."""

    def accept(self, pcm16: bytes) -> str | None:
        """Feed mono 16-bit little-endian PCM at the engine's ``sample_rate``.

        Returns the new partial transcript when it changed, else None.
        """

    def finish(self) -> str:
        """End of the utterance: the final transcript (digits mode: digits as "4 7 2 9")."""


class ASREngine(Protocol):
    name: str
    sample_rate: int  # the rate accept() expects

    def recognizer(self, mode: str = NORMAL, digits: int | None = None) -> SpeechRecognizer:
        """A recognizer for one utterance; ``mode`` is "normal" or "digits".

        ``digits``: in digits mode, how many digits the slot takes (six for an order number) when
        it is known; an engine may use it to settle sooner, and must still return what it heard.
        """


class ASRConfigError(ValueError):
    """The ``helpline: voice: asr:`` section names an unknown engine or a missing model."""


def create_engine(config: dict | None = None) -> ASREngine:
    """Build the engine named by ``config["engine"]`` (config.yml ``helpline: voice: asr:``).

    Engines are imported lazily so that an installation only needs the packages of the engine it
    uses. The same config returns the same (cached) engine, so the model loads once per process.
    """
    from voice_gateway.asr.engines import create_engine as _create

    return _create(dict(config or {}))
