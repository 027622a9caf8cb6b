"""Reading and writing mono 16-bit WAV files (test audio, `helpline call`, call recordings)."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voice_gateway.audio.resample import resample


class WavFormatError(ValueError):
    """A WAV that is not 16-bit PCM."""


def read_wav(path: Path | str, sample_rate: int | None = None) -> tuple[bytes, int]:
    """Mono PCM16 of a WAV file (channels averaged), resampled to ``sample_rate`` if given."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise WavFormatError(f"{path}: only 16-bit PCM WAV files are supported")
        rate, channels = wav.getframerate(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    if channels > 1:
        samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).mean(axis=1)
        frames = samples.astype("<i2").tobytes()
    if sample_rate and sample_rate != rate:
        return resample(frames, rate, sample_rate), sample_rate
    return frames, rate


def write_wav(path: Path | str, pcm16: bytes, sample_rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16)


class WavWriter:
    """A mono PCM16 WAV written as audio arrives; the header's length is brought up to date about once a
    second of audio (and on close) rather than with every 20 ms frame, so a crash leaves a readable file
    missing at most the last second.

    ``silence`` blanks audio already written: a recording learns that the caller said a card
    number only once the words are recognised, after the audio is on disk.
    """

    def __init__(self, path: Path, sample_rate: int):
        self.sample_rate = sample_rate
        self.samples_written = 0
        self._file = open(path, "w+b")
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self._header_at = 0  # samples_written when the header's length was last brought up to date

    def write(self, pcm16: bytes) -> None:
        self._wav.writeframesraw(pcm16)
        self.samples_written += len(pcm16) // 2
        if self.samples_written - self._header_at >= self.sample_rate:
            self._wav.writeframes(b"")  # writes nothing; brings the header's length up to date
            self._header_at = self.samples_written

    def pad_to(self, samples: int) -> None:
        """Silence up to ``samples`` (keeps two tracks of one call aligned in time)."""
        if samples > self.samples_written:
            self.write(bytes(2 * (samples - self.samples_written)))

    def silence(self, start: int, end: int) -> None:
        """Overwrite samples ``[start, end)`` that are already written with silence."""
        start, end = max(0, start), min(end, self.samples_written)
        if end <= start:
            return
        end_of_data = self._file.tell()
        data_start = end_of_data - 2 * self.samples_written
        self._file.seek(data_start + 2 * start)
        self._file.write(bytes(2 * (end - start)))
        self._file.seek(end_of_data)

    def close(self) -> None:
        self._wav.close()
        self._file.close()
