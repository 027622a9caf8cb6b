"""Hold audio while a caller waits for an agent: a soft two-note chime every few seconds, made here."""
from __future__ import annotations

import numpy as np


def hold_chime(sample_rate: int, period_secs: float = 3.0) -> bytes:
    t = np.arange(int(0.5 * sample_rate)) / sample_rate
    envelope = np.exp(-6 * t)
    first = np.sin(2 * np.pi * 523.25 * t) * envelope
    second = np.sin(2 * np.pi * 659.25 * t) * envelope
    gap = np.zeros(int(0.15 * sample_rate))
    chime = np.concatenate([first, gap, second])
    tail = np.zeros(max(0, int(period_secs * sample_rate) - len(chime)))
    return (np.concatenate([chime, tail]) * 0.15 * 32767).astype("<i2").tobytes()
