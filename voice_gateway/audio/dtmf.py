"""In-band DTMF detection, for AudioSocket calls, which carry keypad tones only as audio.

The detector measures the power of the eight DTMF frequencies in 20 ms blocks of 8 kHz audio (what
a Goertzel filter computes, done as one matrix product per block): a key is the strongest row tone plus the
strongest column tone, each well above the other tones of its group and together most of the
block's energy (speech rarely passes this), present for at least two consecutive blocks. A key is
reported once per press; it can be reported again after a block without it.
"""
from __future__ import annotations

import numpy as np

ROWS = (697, 770, 852, 941)
COLUMNS = (1209, 1336, 1477, 1633)
KEYS = ("123A", "456B", "789C", "*0#D")
SAMPLE_RATE = 8000
BLOCK = 160  # 20 ms


def _probes(freqs) -> np.ndarray:
    """One complex exponential per frequency: |probe @ block|^2 is that frequency's Goertzel power."""
    n = np.arange(BLOCK)
    return np.exp(-2j * np.pi * np.outer(freqs, n) / SAMPLE_RATE)


class DtmfDetector:
    def __init__(self, min_blocks: int = 2, min_level: float = 1e-3, twist_db: float = 8.0):
        self._rows = _probes(ROWS)
        self._columns = _probes(COLUMNS)
        self._pending = np.zeros(0)
        self._candidate: str | None = None
        self._count = 0
        self._reported = False
        self.min_blocks = min_blocks
        self.min_level = min_level
        self.twist = 10 ** (twist_db / 10)

    def feed(self, pcm16_8k: bytes) -> list[str]:
        """Feed 8 kHz PCM16; returns the keys whose press was completed in it."""
        samples = np.concatenate([self._pending, np.frombuffer(pcm16_8k, dtype="<i2") / 32768.0])
        keys = []
        whole = len(samples) // BLOCK * BLOCK
        for start in range(0, whole, BLOCK):
            key = self._classify(samples[start:start + BLOCK])
            if key is not None and key == self._candidate:
                self._count += 1
            else:
                self._candidate, self._count, self._reported = key, 1 if key else 0, False
            if key is not None and self._count >= self.min_blocks and not self._reported:
                keys.append(key)
                self._reported = True
        self._pending = samples[whole:]
        return keys

    def _classify(self, block: np.ndarray) -> str | None:
        energy = float(np.dot(block, block))
        if energy / len(block) < self.min_level ** 2:
            return None
        rows = np.abs(self._rows @ block) ** 2
        columns = np.abs(self._columns @ block) ** 2
        row, column = int(np.argmax(rows)), int(np.argmax(columns))
        if not (_dominant(rows, row) and _dominant(columns, column)):
            return None
        if rows[row] > columns[column] * self.twist or columns[column] > rows[row] * self.twist:
            return None
        # Goertzel power of a sine of amplitude a over N samples is (a*N/2)^2; energy is a^2*N/2.
        tone_energy = 2 * (rows[row] + columns[column]) / len(block)
        if tone_energy < 0.6 * energy:
            return None
        return KEYS[row][column]


def _dominant(powers: np.ndarray, index: int, ratio: float = 6.0) -> bool:
    others = np.delete(powers, index)
    return bool(powers[index] > ratio * others.max())


def tone(key: str, duration: float = 0.1, amplitude: float = 0.3) -> bytes:
    """8 kHz PCM16 of a keypad tone (used by `helpline call --protocol audiosocket` and the tests)."""
    for row_index, row in enumerate(KEYS):
        if key in row:
            column_index = row.index(key)
            break
    else:
        raise ValueError(f"not a DTMF key: {key!r}")
    t = np.arange(int(duration * SAMPLE_RATE)) / SAMPLE_RATE
    wave = np.sin(2 * np.pi * ROWS[row_index] * t) + np.sin(2 * np.pi * COLUMNS[column_index] * t)
    return (wave * amplitude / 2 * 32767).astype("<i2").tobytes()
