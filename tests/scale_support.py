"""Real servers on shared stores for the several-process tests and the load benchmark.

A private ``redis-server`` on a free port (appending every write to its own file, so a restart
keeps what it acknowledged, as production Redis must), a database of its own on the local
PostgreSQL, the demo project as links with its voice limits raised, and ``helpline run --workers N``
on them.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from tests.needs import POSTGRES_DSN

ROOT = Path(__file__).resolve().parents[1]
VOICE_LIMITS = {"max_calls": 200, "max_connections_per_address": 200}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def linked_project(folder: Path, voice: dict | None = None) -> Path:
    """The demo project as links, with config.yml's ``voice:`` updated by ``voice`` (limits raised by default)."""
    from ruamel.yaml import YAML

    folder.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name not in ("config.yml", ".helpline", ".git", ".venv", "endpoints.yml"):
            (folder / entry.name).symlink_to(entry)
    yaml = YAML()
    config = yaml.load((ROOT / "config.yml").read_text())
    config["helpline"]["voice"].update({**VOICE_LIMITS, **(voice or {})})
    config["helpline"]["voice"]["sip"]["port"] = free_port()
    config["helpline"]["voice"].pop("audiosocket", None)
    with (folder / "config.yml").open("w") as out:
        yaml.dump(config, out)
    return folder


class PrivateRedis:
    """redis-server on a free port, appending every write to a file in ``folder`` (fsync always)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"], stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # a clean shutdown: the file is complete
            self.process.wait(timeout=10)


class PrivateDatabase:
    """A database of its own on the local PostgreSQL, dropped at the end."""

    def __init__(self):
        import psycopg

        self.name = f"helpline_scale_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {self.name}")
        self.dsn = POSTGRES_DSN.rsplit("/", 1)[0] + "/" + self.name

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class ServerProcess:
    """``helpline run --workers N`` (N = 1: a plain server) in a subprocess, with ``env`` added."""

    def __init__(self, project: Path, data_dir: Path, model: Path, workers: int = 1, env: dict | None = None):
        self.port = free_port()
        self.data_dir = data_dir
        self.token = uuid.uuid4().hex
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "HELPLINE_DATA_DIR": str(data_dir), "HELPLINE_PORT": str(self.port),
                    "HELPLINE_AUTH_TOKEN": self.token, "HELPLINE_MODELS_DIR": str(model.parent), **(env or {})}
        self.log = data_dir.parent / f"server-{self.port}.log"
        self.workers = workers
        self.process = subprocess.Popen(
            [sys.executable, "-m", "helpline.cli", "--project", str(project), "--log-level", "INFO", "run",
             "--workers", str(workers), "--model", str(model)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"), cwd=ROOT)

    def status(self) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/voice/status",
                                         headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=2) as response:
            return json.load(response)

    def worker_pids(self) -> list[int]:
        import psutil

        try:
            return sorted(child.pid for child in psutil.Process(self.process.pid).children())
        except psutil.NoSuchProcess:
            return []

    def wait_ready(self, limit: float = 600) -> None:
        """Until every worker process has answered with its models loaded.

        The kernel hands each status request to any worker listening, and a worker still loading
        is not listening yet, so one ready answer proves nothing about the others: this waits
        until every running worker's pid has answered ready."""
        deadline = time.time() + limit
        ready: set[int] = set()
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; log: {self.log.read_text()[-3000:]}")
            try:
                status = self.status()
                if status["models_loaded"] and status["prewarmed"]:
                    ready.add(status["process"])
                running = set(self.worker_pids()) if self.workers > 1 else {self.process.pid}
                if len(running) >= self.workers and running <= ready:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready in {limit:g} s; log: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
