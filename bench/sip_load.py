"""Many SIP calls from SIPp: 50 one after another, then 20 at once; SIPp counts the failed ones.

    python bench/sip_load.py [--consecutive 50] [--concurrent 20] [--hold-ms 4000]

Starts `helpline run` (the demo bot, default config.yml, SIP on a free port) and waits for its
models. SIPp (Debian's sip-tester) plays bench/sipp/caller_speech.xml: INVITE with G.711, the
caller saying "I'd like to check on my order." as RTP from a pcap this script writes (Piper speech,
mu-law, 20 ms packets) over the start of the greeting, hold, BYE: every call runs the gateway's
whole pipeline (greeting streamed, caller audio through VAD and recognition). A call fails in
SIPp's count when any answer is missing, late (retransmissions give up) or unexpected. The
gateway's own count of answered calls is read from /voice/status. Writes the "load" part of
bench/results/sip.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, ROOT, write_result  # noqa: E402
from bench.demo_startup import free_port  # noqa: E402
from bench.turn_latency import start_server, voice_status  # noqa: E402

SENTENCE = "I'd like to check on my order."
TOKEN = secrets.token_hex(16)  # the server's admin bearer token, for /voice/status


def write_pcap(path: Path, pcm16_8k: bytes) -> Path:
    """RTP (PCMU, 20 ms) in a pcap for SIPp's play_pcap_audio, which rewrites addresses and ports."""
    from voice_gateway.audio import mulaw

    payload = mulaw.encode(pcm16_8k)
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # pcap, Ethernet
    for index, start in enumerate(range(0, len(payload), 160)):
        chunk = payload[start:start + 160].ljust(160, b"\xff")  # 0xff: mu-law silence
        rtp = struct.pack("!BBHII", 0x80, 0, index & 0xFFFF, index * 160, 0x48454C50) + chunk
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), index & 0xFFFF, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        checksum = sum(struct.unpack("!10H", header))
        checksum = ~((checksum & 0xFFFF) + (checksum >> 16)) & 0xFFFF
        ip = header[:10] + struct.pack("!H", checksum) + header[12:] + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        seconds, micros = divmod(index * 20000, 1_000_000)
        out += struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path


def gateway_status(port: int) -> dict:
    return voice_status(port, {"HELPLINE_AUTH_TOKEN": TOKEN})


async def run(sip_port: int, http_port: int, scenario: Path, workdir: Path, args) -> dict:
    from tests.sip_peers import run_sipp

    report = {}
    for name, calls, concurrent, rate in (("consecutive", args.consecutive, 1, 1),
                                          ("concurrent", args.concurrent, args.concurrent, args.concurrent)):
        before = gateway_status(http_port)["sip"]["answered"]
        load_before, started = os.getloadavg()[0], time.monotonic()
        result = await run_sipp(f"127.0.0.1:{sip_port}", calls, rate=rate, concurrent=concurrent,
                                hold_ms=args.hold_ms, scenario=scenario, workdir=workdir,
                                timeout=calls * (args.hold_ms / 1000 + 5) + 60)
        status = gateway_status(http_port)["sip"]
        report[name] = {"calls": calls, "at_once": concurrent, "exit_code": result["exit_code"],
                        "successful_calls": result["successful_calls"], "failed_calls": result["failed_calls"],
                        "answered_by_gateway": status["answered"] - before, "rejected_by_gateway": status["rejected"],
                        "seconds": round(time.monotonic() - started, 1),
                        "load_average_1min": round(max(load_before, os.getloadavg()[0]), 2)}
        print(name, report[name], flush=True)
        if result["exit_code"] != 0:
            print(result["output"], flush=True)
        await asyncio.sleep(3)  # the last calls' sessions close
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consecutive", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--hold-ms", type=int, default=4000, help="how long each call lasts after the answer")
    args = parser.parse_args()
    from voice_gateway.tts import create_synthesizer

    speech = create_synthesizer({}).synthesize(SENTENCE, 8000)
    port, sip_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = write_pcap(Path(tmp) / "caller.pcap", speech)
        scenario = Path(tmp) / "caller_speech.xml"
        scenario.write_text((ROOT / "bench" / "sipp" / "caller_speech.xml").read_text().replace("PCAP_FILE", str(pcap)))
        env = {**os.environ, "HELPLINE_DATA_DIR": f"{tmp}/data", "HELPLINE_PORT": str(port),
               "HELPLINE_SIP_PORT": str(sip_port), "HELPLINE_AUTH_TOKEN": TOKEN}
        log = Path(tmp) / "server.log"
        server = start_server(env, port, log)
        try:
            report = asyncio.run(run(sip_port, port, scenario, Path(tmp), args))
        finally:
            server.terminate()
            server.wait(timeout=30)
    previous = json.loads((RESULTS / "sip.json").read_text()) if (RESULTS / "sip.json").exists() else {}
    previous.pop("machine", None), previous.pop("measured_at", None)
    path = write_result("sip.json", {**previous, "load": {
        "command": f"python bench/sip_load.py --consecutive {args.consecutive} --concurrent {args.concurrent} "
                   f"--hold-ms {args.hold_ms}", **report}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
