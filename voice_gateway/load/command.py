"""The ``helpline load`` command line: arguments, the run, the JSON report."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from voice_gateway.load.scenarios import SCENARIOS


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "helpline" / "load-audio"


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="the running server")
    parser.add_argument("--calls", type=int, default=8, help="concurrent callers (default 8)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between callers' first calls")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="seconds each caller keeps calling (default 0: one call each)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, taken in turn by the callers (default: all of {', '.join(SCENARIOS)})")
    parser.add_argument("--caller", default="+15551230001", help="caller ID of every call (the demo's Maria, PIN 2468)")
    parser.add_argument("--answer-timeout", type=float, default=8.0,
                        help="seconds a turn may wait for the bot's first audio before it counts as an error")
    parser.add_argument("--server-pid", type=int, action="append",
                        help="the server's process (repeatable); default: whatever listens on the URL's port")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where synthesized caller audio is kept (default ~/.cache/helpline/load-audio)")
    parser.add_argument("--out", type=Path, help="write the full report (every call, every sample) as JSON here")


def run_load_command(args, credentials) -> dict:
    from voice_gateway.load.monitor import ServerMonitor, server_pids_on_port
    from voice_gateway.load.runner import LoadOptions, ProgressLine, run_load
    from voice_gateway.load.scenarios import CallerAudio

    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown or not names:
        sys.exit(f"error: unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
    if args.calls < 1:
        sys.exit("error: --calls must be at least 1")
    scenarios = [SCENARIOS[name] for name in names]
    audio = CallerAudio(args.cache_dir or default_cache_dir())
    print(f"caller audio: {audio.prepare(scenarios)} phrases ready in {audio.cache_dir}", file=sys.stderr)
    port = urlparse(args.url).port or 80
    pids = args.server_pid or server_pids_on_port(port)
    monitor = ServerMonitor(pids) if pids else None
    if monitor is None:
        print(f"note: no process found listening on port {port}; server CPU and memory are not measured",
              file=sys.stderr)
    options = LoadOptions(args.url, args.calls, scenarios, credentials, interval=args.interval,
                          duration=args.duration, caller_number=args.caller, answer_timeout=args.answer_timeout)
    progress = ProgressLine()
    try:
        report = asyncio.run(run_load(options, audio, monitor, progress))
    finally:
        progress.close()
    summary = report.summary()
    for error in report.errors[:20]:
        print(f"error: {error}", file=sys.stderr)
    if args.out:
        full = {"summary": summary, "server_pids": pids,
                "calls": [vars(call) | {"turns": [vars(t) for t in call.turns]} for call in report.calls],
                "samples": [vars(sample) for sample in report.samples]}
        args.out.write_text(json.dumps(full, indent=2) + "\n")
    return summary
