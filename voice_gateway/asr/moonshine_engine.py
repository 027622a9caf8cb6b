"""Moonshine tiny-en (``moonshine-voice==0.1.0`` ships the model): streaming, with partials.

One ``Transcriber`` holds the model for the process; each utterance gets its own stream, whose
voice detector splits it into lines; an update re-transcribes the open line, so partials (every
``partial_interval_s`` of audio) cost in proportion to how long the caller has been talking. The
native library is driven under one lock per engine (its streams share the model's sessions), which
costs little: Moonshine runs at about a tenth of real time.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from voice_gateway.asr.base import DIGITS, NORMAL, ASRConfigError
from voice_gateway.asr.digits import digit_transcript
from voice_gateway.asr.pcm import to_float32

logger = logging.getLogger(__name__)


class MoonshineEngine:
    name = "moonshine"
    sample_rate = 16000

    def __init__(self, model_dir: Path | None = None, partial_interval_s: float = 1.0):
        from moonshine_voice.moonshine_api import ModelArch
        from moonshine_voice.transcriber import Transcriber
        from moonshine_voice.utils import get_model_path

        model_dir = Path(model_dir) if model_dir else get_model_path("tiny-en")
        if not model_dir.is_dir():
            raise ASRConfigError(f"voice.asr.model_dir: no Moonshine model at {model_dir}")
        self.partial_interval_s = partial_interval_s
        self._lock = threading.Lock()
        self._transcriber = Transcriber(model_path=str(model_dir), model_arch=ModelArch.TINY)
        logger.info("asr engine loaded", extra={"engine": self.name, "model": str(model_dir)})

    @classmethod
    def from_config(cls, config: dict) -> "MoonshineEngine":
        return cls(config.get("model_dir"), float(config.get("partial_interval_s", 1.0)))

    def recognizer(self, mode: str = NORMAL, digits: int | None = None) -> "MoonshineRecognizer":
        return MoonshineRecognizer(self, mode)  # streams: nothing to gain from knowing how many digits


class MoonshineRecognizer:
    def __init__(self, engine: MoonshineEngine, mode: str):
        self._engine = engine
        self._digits = mode == DIGITS
        with engine._lock:
            # A huge update interval: partials are produced here, on our own schedule.
            self._stream = engine._transcriber.create_stream(update_interval=1e9)
            self._stream.start()
        self._pending_s = 0.0
        self._partial = ""
        self._audio: list[np.ndarray] = []

    def accept(self, pcm16: bytes) -> str | None:
        samples = to_float32(pcm16)
        self._audio.append(samples)
        with self._engine._lock:
            self._stream.add_audio(samples.tolist(), self._engine.sample_rate)
            self._pending_s += len(samples) / self._engine.sample_rate
            if self._pending_s < self._engine.partial_interval_s:
                return None
            self._pending_s = 0.0
            text = _text(self._stream.update_transcription())
        if text == self._partial:
            return None
        self._partial = text
        return text

    def finish(self) -> str:
        # The stream transcribes only when asked: stop() alone would drop the audio since the last
        # update. One update covers everything; the stream is then dropped without stop(), which
        # would transcribe the last line a second time.
        with self._engine._lock:
            text = _text(self._stream.update_transcription())
            self._stream.close()
            if not text and self._audio:
                # The stream's voice detector needs context: a lone short word ("seven") can end up
                # in no line at all. One pass over the whole utterance still hears it.
                audio = np.concatenate(self._audio).tolist()
                text = _text(self._engine._transcriber.transcribe_without_streaming(audio, self._engine.sample_rate))
        return digit_transcript(text) if self._digits else text


def _text(transcript) -> str:
    return " ".join(line.text.strip() for line in transcript.lines if line.text.strip())
