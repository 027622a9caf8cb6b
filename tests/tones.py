"""Pure tones as party signatures: who sent a sound is told by its frequency (numpy FFT), not by a mock.

Each party of a monitored call sends its own tone; what a party receives is checked for each tone's
amplitude, so "the caller never hears the whisper" is a measured absence of the supervisor's frequency.
"""
from __future__ import annotations

import numpy as np

AMPLITUDE = 6000
CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 780, 1420, 2580  # no mixing product of two within 100 Hz of the third


def tone(frequency: float, seconds: float, rate: int, amplitude: float = AMPLITUDE) -> bytes:
    times = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * frequency * times) * amplitude).astype("<i2").tobytes()


def levels(pcm16: bytes, rate: int, frequencies=(CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ)) -> dict[int, float]:
    """The amplitude of each frequency over the whole recording (Hann window, strongest bin within 15 Hz)."""
    samples = np.frombuffer(pcm16[:len(pcm16) // 2 * 2], dtype="<i2").astype(np.float64)
    if len(samples) < rate // 10:
        return {f: 0.0 for f in frequencies}
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) * 2 / window.sum()
    bins = np.fft.rfftfreq(len(samples), 1 / rate)
    return {f: float(spectrum[np.abs(bins - f) <= 15].max()) for f in frequencies}


def heard(pcm16: bytes, rate: int, present: float = AMPLITUDE * 0.05, absent: float = AMPLITUDE * 0.01) -> set[int]:
    """The tones clearly in a recording; a tone between ``absent`` and ``present`` fails loudly (ambiguous)."""
    found = set()
    for frequency, level in levels(pcm16, rate).items():
        assert level >= present or level <= absent, f"{frequency} Hz at {level:.0f}: neither heard nor silent"
        if level >= present:
            found.add(frequency)
    return found
