"""Turn latency and recognition over SIP, without loss and at 2% RTP packet loss, side by side.

    python bench/sip_turns.py [--calls 4] [--loss 0.02]

Starts `helpline run` (the demo bot, default config.yml, SIP on a free port) in a subprocess, waits
until its models are loaded and the fixed responses synthesized, then places calls with a SIP phone
built on aiosipua/aiortp (bench/sip_caller.py): G.711 mu-law, 20 ms packets sent on a steady clock.
Each call plays the six caller turns of bench/turn_latency.py (Piper speech), waiting for each answer
to finish. The calls without loss alternate with the same calls over the Helpline WebSocket protocol
(bench/turn_latency.py's client), so both transports are measured under the same load, after one
uncounted warm-up call (replies synthesized once, as on a server that has been up a while); then the same
number of SIP calls lose ``--loss`` of the caller's packets at random (the jitter buffer conceals the
gaps). Per turn: last packet of caller speech sent -> first
packet of the bot's answer received (end-of-turn silence, recognition, bot, TTS, network). A turn
counts as understood when the bot's next reply is the one the demo gives to those words (from the
call's transcript). Writes the "turns" part of bench/results/sip.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import RESULTS, ROOT, write_result  # noqa: E402
from bench.demo_startup import free_port  # noqa: E402
from bench.turn_latency import CALLER, TURNS, start_server  # noqa: E402

# What the demo says after each of TURNS, when it understood it.
ANSWERS = ["order number", "four seven two nine one eight", "pin", "balance is", "order number",
           "six two one eight four seven"]


async def websocket_calls(http_port: int, calls: int, speech: list[bytes], data_dir: Path) -> list[dict]:
    """The same turns over the Helpline WebSocket protocol, for comparison on the same server and load."""
    from helpline.security.secrets import load_secrets
    from voice_gateway.client import Caller, HelplineLine, LineCredentials

    secrets = load_secrets(data_dir)  # the server's: a voice token signed with its key
    credentials = LineCredentials(secrets.twilio_auth_token, secrets.secret_key)
    results = []
    for number in range(calls):
        line = HelplineLine(f"ws://127.0.0.1:{http_port}/voice/ws", 8000, credentials)
        async with Caller(line, quiet_secs=0.8).dial(f"bench-ws-{uuid.uuid4().hex[:12]}", CALLER) as caller:
            await caller.wait_until_quiet()
            for text, pcm in zip(TURNS, speech):
                result = await caller.say(pcm, text)
                print(f"  websocket call {number + 1}/{calls} {text!r}: {result.latency_ms and round(result.latency_ms)} ms",
                      flush=True)
                results.append({"loss": 0.0, "turn": text, "latency_ms": result.latency_ms})
    return results


async def place_calls(sip_port: int, calls: int, loss: float, speech: list[bytes]) -> list[dict]:
    from bench.sip_caller import SipCaller

    results = []
    for number in range(calls):
        caller = await SipCaller(("127.0.0.1", sip_port), CALLER, loss=loss, seed=number + 1).dial()
        try:
            await caller.wait_until_quiet()
            for text, pcm in zip(TURNS, speech):
                latency = await caller.say(pcm)
                print(f"  loss {loss:.0%} call {number + 1}/{calls} {text!r}: "
                      f"{latency and round(latency)} ms", flush=True)
                results.append({"loss": loss, "turn": text, "latency_ms": latency})
                await caller.wait_until_quiet()
        finally:
            await caller.hang_up()
        results.append({"loss": loss, "packets_sent": caller.sent, "packets_dropped": caller.dropped})
    return results


def recordings_dir() -> Path:
    """Where the server records calls (config.yml ``helpline: voice: recording:``)."""
    from bot.training_data.project import load_project
    from helpline.settings import load_settings
    from voice_gateway.config import load_voice_config

    return load_voice_config(load_settings(ROOT, load_project(ROOT).config).voice, ROOT).recording_dir


def understood(since: str) -> list[int]:
    """Per call placed since ``since`` (UTC, as recording folders are named: 20261130-191313), in
    order: how many of the six turns got the expected answer."""
    counts = []
    folders = sorted(p for p in recordings_dir().iterdir() if p.name[:15] >= since)
    for path in [folder / "transcript.json" for folder in folders if (folder / "transcript.json").exists()]:
        bot = [line["text"].lower() for line in json.loads(path.read_text())["lines"] if line["speaker"] == "bot"]
        found, position = 0, 0
        for expected in ANSWERS:
            hit = next((i for i in range(position, len(bot)) if expected in bot[i]), None)
            if hit is not None:
                found, position = found + 1, hit + 1
        counts.append(found)
    return counts


def summary(results: list[dict], understood_counts: list[int]) -> dict:
    latencies = [r["latency_ms"] for r in results if "turn" in r and r["latency_ms"] is not None]
    turns = [r for r in results if "turn" in r]
    sent = sum(r.get("packets_sent", 0) for r in results)
    dropped = sum(r.get("packets_dropped", 0) for r in results)
    return {"turns": len(turns), "unanswered_turns": len(turns) - len(latencies),
            "turns_understood": sum(understood_counts), "caller_packets_lost": dropped,
            "caller_packet_loss": round(dropped / sent, 4) if sent else None,
            "after_end_of_speech_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
            "after_end_of_speech_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=4, help="calls per loss rate, six turns each")
    parser.add_argument("--loss", type=float, default=0.02, help="share of caller packets lost in the lossy calls")
    args = parser.parse_args()
    from voice_gateway.tts import create_synthesizer

    synthesizer = create_synthesizer({})
    speech = [synthesizer.synthesize(text, 8000) for text in TURNS]
    port, sip_port = free_port(), free_port()
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for loss in (0.0, args.loss):
            data = Path(tmp) / f"data-{loss}"
            since = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            env = {**os.environ, "HELPLINE_DATA_DIR": str(data), "HELPLINE_PORT": str(port),
                   "HELPLINE_SIP_PORT": str(sip_port), "HELPLINE_AUTH_TOKEN": secrets.token_hex(16)}
            server = start_server(env, port, Path(tmp) / f"server-{loss}.log")
            load_before = os.getloadavg()[0]
            try:
                asyncio.run(websocket_calls(port, 1, speech, data))  # warm-up, not counted: replies synthesized once
                if loss == 0:  # SIP and WebSocket calls alternate, so both see the same load
                    results, websocket = [], []
                    for _ in range(args.calls):
                        results += asyncio.run(place_calls(sip_port, 1, loss, speech))
                        websocket += asyncio.run(websocket_calls(port, 1, speech, data))
                else:
                    results = asyncio.run(place_calls(sip_port, args.calls, loss, speech))
            finally:
                server.terminate()
                server.wait(timeout=30)
            time.sleep(0.5)
            key = "no_loss" if loss == 0 else f"loss_{loss:.0%}".replace("%", "pct")
            counts = understood(since)[1:]  # without the warm-up call
            if loss == 0:  # transcripts in call order: SIP, WebSocket, SIP, ...
                report["websocket_same_run"] = {key: value for key, value in summary(websocket, counts[1::2]).items()
                                                if not key.startswith("caller_packet")}
                counts = counts[0::2]
            report[key] = {**summary(results, counts), "load_average_1min": round(
                max(load_before, os.getloadavg()[0]), 2)}
            print(key, report[key], flush=True)
    previous = json.loads((RESULTS / "sip.json").read_text()) if (RESULTS / "sip.json").exists() else {}
    previous.pop("machine", None), previous.pop("measured_at", None)
    path = write_result("sip.json", {**previous, "turns": {
        "command": f"python bench/sip_turns.py --calls {args.calls} --loss {args.loss}", **report,
        "target_after_end_of_speech_p50_ms": 800}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
