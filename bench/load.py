"""Concurrent calls against `helpline run`: the latency curve and the soak, with the server's CPU and memory.

    python bench/load.py curve [--calls 1,8,16,32,48,64] [--hold 60] [--workers 1]
    python bench/load.py soak  [--calls 16] [--minutes 20] [--workers 1]

Starts the demo bot (`helpline run`, the repository's config.yml with the voice limits raised so
that the server, not its admission limits, is what is measured) in a project folder of links in a
temporary directory, waits for its models and fixed responses, then runs `helpline load`'s
callers in this process: N callers over Twilio Media Streams (signed with the server's auth
token), first calls 0.5 s apart, each calling again until ``--hold`` seconds have passed, so N
calls are live at once. The load generator shares the box with the server, as in production
tests of a single box.

``curve`` writes bench/results/load.json: one point per N (turn latency p50/p95/p99, errors,
the server's mean CPU in cores, its largest RSS), the largest N with p95 under 1200 ms and no
error, RSS per worker, CPU per call. ``soak`` writes bench/results/soak.json: calls, errors,
memory growth (RSS of the last tenth of the run against the first tenth after warm-up) and
whether every call's records are complete (a recording whose transcript has an end reason,
found by the call's Twilio id).

``--workers N`` serves with N workers on shared stores: a private Redis (redis-server on a free
port) and the PostgreSQL at HELPLINE_TEST_POSTGRES_DSN (default the local ``test`` database).
The load average at start and end is recorded with every result: this box is shared.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, write_result  # noqa: E402
from tests.scale_support import PrivateDatabase, PrivateRedis, ServerProcess, linked_project  # noqa: E402

P95_TARGET_MS = 1200


def demo_model() -> Path:
    """The demo bot's model for the repository's content, trained first if there is none."""
    from bot.model_archive import fingerprint
    from bot.training_data.project import load_project

    def newest() -> Path | None:  # archive names start with their training time
        return max((ROOT / "models").glob(f"*-{fingerprint(load_project(ROOT))}.tar.gz"), default=None)

    if newest() is None:
        subprocess.run([sys.executable, "-m", "helpline.cli", "--project", str(ROOT), "train"], check=True)
    return newest()


def run_point(server: ServerProcess, calls: int, hold: float, scenarios: list[str]) -> dict:
    from helpline.security.secrets import load_secrets
    from voice_gateway.client import LineCredentials
    from voice_gateway.load.command import default_cache_dir
    from voice_gateway.load.monitor import ServerMonitor
    from voice_gateway.load.runner import LoadOptions, ProgressLine, run_load
    from voice_gateway.load.scenarios import SCENARIOS, CallerAudio

    secrets = load_secrets(server.data_dir)
    chosen = [SCENARIOS[name] for name in scenarios]
    audio = CallerAudio(default_cache_dir())
    audio.prepare(chosen)
    options = LoadOptions(f"http://127.0.0.1:{server.port}", calls, chosen,
                          LineCredentials(secrets.twilio_auth_token, secrets.secret_key), duration=hold)
    load_before = os.getloadavg()[0]
    progress = ProgressLine()
    report = asyncio.run(run_load(options, audio, ServerMonitor([server.process.pid]), progress))
    progress.close()
    summary = report.summary()
    summary["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    summary["error_examples"] = report.errors[:5]
    return summary, report


def recordings_folder(project: Path) -> Path:
    """Where the server records calls: the project's voice recording folder, resolved as the server does."""
    from bot.training_data.project import load_project
    from helpline.settings import load_settings
    from voice_gateway.config import load_voice_config

    return load_voice_config(load_settings(project, load_project(project).config).voice, project).recording_dir


def records_complete(recordings: Path, references: list[str]) -> tuple[int, list[str]]:
    """How many of the calls have a closed recording (transcript with an end reason); the others' ids."""
    closed = set()
    for transcript in recordings.glob("*/transcript.json"):
        record = json.loads(transcript.read_text())
        if record.get("ended_reason"):
            closed.add(record.get("external_call_id"))
    missing = [ref for ref in references if ref not in closed]
    return len(references) - len(missing), missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["curve", "soak"])
    parser.add_argument("--calls", default=None, help="curve: comma-separated N (1,8,16,32,48,64); soak: one N (16)")
    parser.add_argument("--hold", type=float, default=60.0, help="curve: seconds each caller keeps calling")
    parser.add_argument("--minutes", type=float, default=20.0, help="soak: how long")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scenarios", default="order_status,balance_keyed_pin,knowledge_question,help_then_goodbye")
    parser.add_argument("--out", help="result file name in bench/results (default load.json / soak.json)")
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        project = linked_project(Path(tmp) / "project")
        redis = PrivateRedis(Path(tmp) / "redis") if args.workers > 1 else None
        database = PrivateDatabase() if args.workers > 1 else None
        shared = {"HELPLINE_TRACKER_STORE": database.dsn, "HELPLINE_HANDOFF_STORE": redis.url,
                  "HELPLINE_LOCK_STORE": redis.url} if redis else {}
        server = ServerProcess(project, Path(tmp) / "data", demo_model(), args.workers, shared)
        try:
            print(f"starting the server ({args.workers} worker(s)); log: {server.log}", flush=True)
            server.wait_ready(900)
            result = curve(server, args, scenarios) if args.mode == "curve" else soak(server, project, args, scenarios)
        finally:
            server.stop()
            if redis is not None:
                redis.stop()
                database.drop()
    path = write_result(args.out or f"{'load' if args.mode == 'curve' else 'soak'}.json", result)
    print(f"wrote {path}")


def curve(server: ServerProcess, args, scenarios: list[str]) -> dict:
    points = []
    for calls in [int(n) for n in (args.calls or "1,8,16,32,48,64").split(",")]:
        print(f"--- {calls} concurrent calls", flush=True)
        summary, _ = run_point(server, calls, args.hold, scenarios)
        print(json.dumps(summary), flush=True)
        points.append(summary)
        time.sleep(5)  # the last calls' sessions close
    passing = [p["calls"] for p in points if p["p95_ms"] < P95_TARGET_MS and p["errors"] == 0]
    busiest = max(points, key=lambda p: p["calls"])
    return {
        "command": f"python bench/load.py curve --calls {args.calls or '1,8,16,32,48,64'} --hold {args.hold:g} "
                   f"--workers {args.workers}",
        "workers": args.workers, "latency": "end of caller speech -> first bot audio frame received, per caller turn",
        "curve": [{key: p[key] for key in ("calls", "p50_ms", "p95_ms", "p99_ms", "errors", "server_cpu_cores",
                                          "load_generator_cpu_cores", "rss_mb", "pss_mb", "calls_placed", "turns",
                                          "load_average_1min", "p50_p95_ms_by_step", "error_examples")}
                  for p in points],
        "max_calls_p95_under_1200ms": max(passing, default=0),
        "rss_mb_per_worker": busiest["rss_mb_per_process_max"],
        "server_cpu_core_per_call": round(busiest["server_cpu_cores"] / busiest["calls"], 4),
        "targets": {"max_calls_p95_under_1200ms": 48, "rss_mb_per_worker": 1200, "server_cpu_core_per_call": 0.02},
    }


def soak(server: ServerProcess, project: Path, args, scenarios: list[str]) -> dict:
    calls = int(args.calls or 16)
    summary, report = run_point(server, calls, args.minutes * 60, scenarios)
    samples = report.samples
    tenth = max(1, len(samples) // 10)
    warm = samples[tenth:2 * tenth] or samples[:1]  # after the first tenth: models and caches warm
    last = samples[-tenth:]
    rss_warm = sum(s.rss_mb for s in warm) / len(warm)
    rss_last = sum(s.rss_mb for s in last) / len(last)
    time.sleep(5)
    complete, missing = records_complete(recordings_folder(project), [c.reference for c in report.calls])
    return {
        "command": f"python bench/load.py soak --calls {calls} --minutes {args.minutes:g} --workers {args.workers}",
        "workers": args.workers, "calls_placed": len(report.calls), "minutes": round(report.seconds / 60, 1),
        "errors": summary["errors"], "error_examples": summary["error_examples"],
        "p50_ms": summary["p50_ms"], "p95_ms": summary["p95_ms"], "p99_ms": summary["p99_ms"],
        "rss_mb_after_warm_up": round(rss_warm, 1), "rss_mb_at_end": round(rss_last, 1),
        "memory_growth": round(rss_last / rss_warm - 1, 4),
        "records_complete": complete, "records_missing": missing[:10],
        "server_cpu_cores": summary["server_cpu_cores"], "load_average_1min": summary["load_average_1min"],
        "targets": {"calls_placed": 200, "minutes": 20, "errors": 0, "memory_growth": 0.10},
    }


if __name__ == "__main__":
    main()
