"""Which ASR engine config.yml names, built once per process and shared by every call."""
from __future__ import annotations

import importlib
import json
import threading

from voice_gateway.asr.base import ASRConfigError, ASREngine

DEFAULT_ENGINE = "whisper"
# engine name -> "module:class"; each class has ``from_config(config) -> engine``.
ENGINES = {
    "moonshine": "voice_gateway.asr.moonshine_engine:MoonshineEngine",
    "whisper": "voice_gateway.asr.whisper_engine:WhisperEngine",
    "vosk": "voice_gateway.asr.vosk_engine:VoskEngine",
}

_engines: dict[str, ASREngine] = {}
_lock = threading.Lock()


def create_engine(config: dict) -> ASREngine:
    name = config.get("engine") or DEFAULT_ENGINE
    if name not in ENGINES:
        raise ASRConfigError(f"voice.asr.engine: unknown engine {name!r}; choose one of {sorted(ENGINES)}")
    key = json.dumps({**config, "engine": name}, sort_keys=True, default=str)
    with _lock:
        if key not in _engines:
            module, cls = ENGINES[name].split(":")
            _engines[key] = getattr(importlib.import_module(module), cls).from_config(config)
        return _engines[key]
