"""Demo bot: `helpline train` wall time, and `helpline run` start to a healthy /health.

    python bench/demo_startup.py

Both run as the README's commands do, in subprocesses, with a fresh models
folder. Writes bench/results/demo_startup.json.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, write_result  # noqa: E402

HELPLINE = [sys.executable, "-m", "helpline.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_until_healthy(env: dict, port: int, limit: float = 120.0) -> float:
    started = time.time()
    server = subprocess.Popen([*HELPLINE, "run", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.time() - started < limit:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    if response.status == 200:
                        return time.time() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HELPLINE_MODELS_DIR": f"{tmp}/models", "HELPLINE_DATA_DIR": f"{tmp}/data"}
        started = time.time()
        subprocess.run([*HELPLINE, "train"], cwd=ROOT, env=env, check=True)
        train_seconds = time.time() - started
        print(f"helpline train: {train_seconds:.1f} s", flush=True)
        health = [time_until_healthy(env, free_port()) for _ in range(3)]
        print(f"helpline run -> /health 200: {', '.join(f'{h:.1f}' for h in health)} s", flush=True)
    path = write_result("demo_startup.json", {
        "command": "python bench/demo_startup.py", "train_seconds": round(train_seconds, 1),
        "run_to_health_seconds": [round(h, 2) for h in health], "targets": {"train_seconds": 60, "health_seconds": 10}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
