"""Turn latency through the voice gateway, as a caller feels it.

    python bench/turn_latency.py [--calls 9]

Starts `helpline run` (the demo bot, default config.yml: the default ASR engine, Piper, VAD,
end-of-turn silence) in a subprocess, waits until its models are loaded and the fixed responses
synthesized (GET /voice/status), and places calls over the Helpline protocol at 8 kHz. Each call
waits for the greeting, then plays six caller turns synthesized with Piper (order question, order
number, balance question, PIN, order question, another order number) in real time, silence between
them, waiting for each answer to finish. Two numbers per turn:

- after_end_of_turn: end of turn detected -> first bot audio frame sent, measured in the gateway
  (recognition finish + bot + first sentence of speech);
- after_end_of_speech: last frame of caller speech sent -> first bot audio frame received, measured
  by the client (adds the end-of-turn silence and the network).

Writes bench/results/turn_latency.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import ROOT, write_result  # noqa: E402
from bench.demo_startup import free_port  # noqa: E402

TURNS = ["I'd like to check on my order.", "four seven two nine one eight", "What's my account balance?",
         "two four six eight", "Where is my order?", "six two one eight four seven"]
DIGIT_TURNS = {"four seven two nine one eight", "two four six eight", "six two one eight four seven"}
CALLER = "+15551230001"


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "helpline.cli", "--log-level", "INFO", "run", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.time() + 600  # trains the demo bot first if the models folder has none
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/voice/status", timeout=1) as response:
                status = json.load(response)
            if status["models_loaded"] and status["prewarmed"]:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError("server did not load its voice models")


async def place_calls(url: str, calls: int, speech: list[bytes], data_dir: Path) -> list:
    """Calls one after another, each with a voice token signed with the server's secret key."""
    from helpline.security.secrets import load_secrets
    from voice_gateway.client import Caller, HelplineLine, LineCredentials

    credentials = LineCredentials(secret_key=load_secrets(data_dir).secret_key)
    results = []
    for number in range(calls):
        line = HelplineLine(f"{url.replace('http', 'ws')}/voice/ws", 8000, credentials)
        async with Caller(line, quiet_secs=0.8).dial(f"bench-{number}-{os.getpid()}", CALLER) as caller:
            await caller.wait_until_quiet()
            for text, pcm in zip(TURNS, speech):
                result = await caller.say(pcm, text)
                print(f"  call {number + 1}/{calls} {text!r}: end of turn -> audio {result.after_end_of_turn_ms} ms, "
                      f"end of speech -> audio {result.latency_ms and round(result.latency_ms)} ms", flush=True)
                results.append(result)
    return results


def breakdown(log: Path) -> dict:
    """Median of each part of the gateway's turn latency, from its "bot answered" log lines."""
    parts = {"recognition_ms": [], "bot_ms": [], "speech_ms": []}
    for line in log.read_text().splitlines():
        if '"bot answered"' in line:
            entry = json.loads(line)
            for key, values in parts.items():
                values.append(entry[key])
    return {f"{key}_p50": float(np.percentile(values, 50)) for key, values in parts.items() if values}


def percentiles(values: list[float]) -> tuple[float, float]:
    return round(float(np.percentile(values, 50)), 1), round(float(np.percentile(values, 95)), 1)


def by_turn_kind(results: list) -> dict:
    """p50s of one kind of turn: words end after 0.5 s of silence, digits after up to 1.0 s."""
    gateway = [r.after_end_of_turn_ms for r in results if r.after_end_of_turn_ms is not None]
    client = [r.latency_ms for r in results if r.latency_ms is not None]
    return {"turns": len(client), "after_end_of_turn_p50_ms": percentiles(gateway)[0] if gateway else None,
            "after_end_of_speech_p50_ms": percentiles(client)[0] if client else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=9, help="calls of six turns each (default 9: 54 turns)")
    args = parser.parse_args()
    from voice_gateway.tts import create_synthesizer

    synthesizer = create_synthesizer({})
    speech = [synthesizer.synthesize(text, 8000) for text in TURNS]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HELPLINE_DATA_DIR": f"{tmp}/data", "HELPLINE_PORT": str(port)}
        log = Path(tmp) / "server.log"
        server = start_server(env, port, log)
        try:
            results = asyncio.run(place_calls(f"http://127.0.0.1:{port}", args.calls, speech, Path(tmp) / "data"))
        finally:
            server.terminate()
            server.wait(timeout=30)
        parts = breakdown(log)
    gateway = [r.after_end_of_turn_ms for r in results if r.after_end_of_turn_ms is not None]
    client = [r.latency_ms for r in results if r.latency_ms is not None]
    turn_p50, turn_p95 = percentiles(gateway)
    speech_p50, speech_p95 = percentiles(client)
    by_kind = {kind: by_turn_kind([r for r in results if (r.label in DIGIT_TURNS) == (kind == "digits")])
               for kind in ("words", "digits")}
    print(f"{len(client)} turns: after end of turn p50 {turn_p50} ms, p95 {turn_p95} ms; "
          f"after end of speech p50 {speech_p50} ms, p95 {speech_p95} ms; gateway parts (p50): {parts}; "
          f"by kind of turn: {by_kind}")
    load = os.getloadavg()[0]
    path = write_result("turn_latency.json", {
        "command": "python bench/turn_latency.py", "turns": len(client), "unanswered_turns": len(results) - len(client),
        "after_end_of_turn_p50_ms": turn_p50, "after_end_of_turn_p95_ms": turn_p95,
        "after_end_of_speech_p50_ms": speech_p50, "after_end_of_speech_p95_ms": speech_p95,
        "gateway_parts": parts, "by_turn_kind": by_kind, "load_average_1min": round(load, 2),
        "targets": {"after_end_of_turn_p50_ms": 300, "after_end_of_speech_p50_ms": 800}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
