"""Whisper's normal-mode encoder window: 15 s against shorter windows for short turns, side by side.

    python bench/asr_windows.py

Two sets of speech as a phone line carries it (8 kHz mu-law): the 32 LJSpeech sentences (read
news prose, 2-10 s), and short requests as callers make them: the first BANKING77 test question
of each intent that is plain words (no digits or symbols), synthesized once with the load
caller's Piper voice (``helpline load``'s cache). Each utterance is recognised with the engine's
window fixed at 15 s and at each candidate short window it fits with ``FIT_MARGIN_S`` to spare
(the rule ``WhisperEngine.normal_window`` applies). Per set and window: how many fit, the word
error rate in that window and of the same utterances at 15 s, and the mean decode time
(``finish``) of each. Result: bench/results/asr_windows.json.
"""
from __future__ import annotations

import csv
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.asr import ljspeech, phone_line, recognize, wer  # noqa: E402
from bench.common import SHARED_DATA, write_result  # noqa: E402
from voice_gateway.asr.whisper_engine import FIT_MARGIN_S, SHORT_WINDOWS_S, WhisperEngine  # noqa: E402
from voice_gateway.load.command import default_cache_dir  # noqa: E402
from voice_gateway.load.scenarios import SAMPLE_RATE, CallerAudio  # noqa: E402

LONGEST = 15.0
CANDIDATES = tuple(sorted({4.0, 5.0, 6.0, 8.0, 10.0, *SHORT_WINDOWS_S}))
PLAIN = re.compile(r"[A-Za-z ,.?']+")


def requests() -> list[tuple[bytes, str]]:
    """(8 kHz PCM16, text) of one plain-words BANKING77 test question per intent, up to 14 words."""
    chosen: dict[str, str] = {}
    with (SHARED_DATA / "banking77" / "polyai_original" / "test.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            text = row["text"].strip()
            if row["category"] not in chosen and PLAIN.fullmatch(text) and len(text.split()) <= 14:
                chosen[row["category"]] = text
    audio = CallerAudio(default_cache_dir())
    return [(audio.pcm(text), text) for text in chosen.values()]


def measure(name: str, utterances: list[tuple[bytes, str]]) -> list[dict]:
    seconds = [len(pcm) / 2 / 8000 for pcm, _ in utterances]
    heard: dict[float, dict[int, str]] = {}
    took: dict[float, dict[int, float]] = {}
    for window in (LONGEST, *CANDIDATES):
        engine = WhisperEngine(threads=1, window_s=LONGEST)
        engine.normal_window = lambda seconds, window=window: window  # every utterance in this one window
        fits = [i for i, length in enumerate(seconds) if window == LONGEST or length + FIT_MARGIN_S <= window]
        results = {i: recognize(engine, utterances[i][0], 8000) for i in fits}
        heard[window] = {i: text for i, (text, _) in results.items()}
        took[window] = {i: taken * 1000 for i, (_, taken) in results.items()}
        print(f"{name}, {window:g} s window: {len(fits)} utterances, "
              f"{statistics.mean(took[window].values()):.0f} ms each", flush=True)
    rows = []
    for window in CANDIDATES:
        fits = sorted(heard[window])
        if not fits:
            continue
        rows.append({"window_s": window, "utterances_that_fit": len(fits),
                     "longest_s": round(max(seconds[i] for i in fits), 2),
                     "wer": round(wer([(utterances[i][1], heard[window][i]) for i in fits]), 4),
                     "wer_at_15s": round(wer([(utterances[i][1], heard[LONGEST][i]) for i in fits]), 4),
                     "decode_ms_mean": round(statistics.mean(took[window][i] for i in fits), 1),
                     "decode_ms_mean_at_15s": round(statistics.mean(took[LONGEST][i] for i in fits), 1)})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    sets = {"ljspeech": [(phone_line(pcm, rate), text) for pcm, rate, text in ljspeech(None)],
            "requests": [(phone_line(pcm, SAMPLE_RATE), text) for pcm, text in requests()]}
    results = {name: measure(name, utterances) for name, utterances in sets.items()}
    path = write_result("asr_windows.json", {
        "command": "python bench/asr_windows.py",
        "data": {"ljspeech": "ljspeech_samples (32 sentences), 8 kHz mu-law",
                 "requests": f"{len(sets['requests'])} BANKING77 test questions (one per intent, plain words), "
                             "Piper (helpline load's caller voice), 8 kHz mu-law"},
        "fit_margin_s": FIT_MARGIN_S, "windows_used": list(SHORT_WINDOWS_S), "sets": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
