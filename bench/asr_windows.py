"""Whisper's normal-mode encoder window: 15 s against the shorter windows short turns get, side by side.

    python bench/asr_windows.py

On the 32 LJSpeech sentences as a phone line carries them (8 kHz mu-law), each recognised with
the engine's window fixed at 15, 10 and 8 s: word error rate over the sentences that fit each
short window with ``FIT_MARGIN_S`` to spare (the rule ``WhisperEngine.normal_window`` applies),
the same sentences' rate at 15 s, and the mean decode time per sentence (``finish``) at each
window, over the same sentences. Result: bench/results/asr_windows.json.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.asr import ljspeech, phone_line, recognize, wer  # noqa: E402
from bench.common import write_result  # noqa: E402
from voice_gateway.asr.whisper_engine import FIT_MARGIN_S, SHORT_WINDOWS_S, WhisperEngine  # noqa: E402

LONGEST = 15.0


def main() -> None:
    sentences = [(phone_line(pcm, rate), text) for pcm, rate, text in ljspeech(None)]
    seconds = [len(audio) / 2 / 8000 for audio, _ in sentences]
    heard, took = {}, {}
    for window in (LONGEST, *SHORT_WINDOWS_S):
        engine = WhisperEngine(threads=1, window_s=window)
        engine.normal_window = lambda seconds, window=window: window  # every sentence in this one window
        results = [recognize(engine, audio, 8000) for audio, _ in sentences]
        heard[window] = [text for text, _ in results]
        took[window] = [seconds_taken * 1000 for _, seconds_taken in results]
        print(f"{window:g} s window: {statistics.mean(took[window]):.0f} ms per sentence", flush=True)
    references = [text for _, text in sentences]
    windows = []
    for window in SHORT_WINDOWS_S:
        fits = [i for i, length in enumerate(seconds) if length + FIT_MARGIN_S <= window]
        row = {"window_s": window, "sentences_that_fit": len(fits),
               "wer": round(wer([(references[i], heard[window][i]) for i in fits]), 4),
               "wer_at_15s": round(wer([(references[i], heard[LONGEST][i]) for i in fits]), 4),
               "decode_ms_mean": round(statistics.mean(took[window][i] for i in fits), 1),
               "decode_ms_mean_at_15s": round(statistics.mean(took[LONGEST][i] for i in fits), 1)}
        print(row, flush=True)
        windows.append(row)
    path = write_result("asr_windows.json", {
        "command": "python bench/asr_windows.py", "data": "ljspeech_samples (32 sentences), 8 kHz mu-law",
        "fit_margin_s": FIT_MARGIN_S, "windows": windows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
