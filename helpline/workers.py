"""Several server processes on one box (`helpline run --workers N`), and one at a time on SQLite.

**Workers.** The supervisor trains or picks the model once, then starts N worker processes of
``helpline run`` that each bind the same HTTP port with ``SO_REUSEPORT``: the kernel spreads new
connections (a WebSocket call is one connection) over them, and a worker that dies takes only its
own calls with it. The supervisor starts a dead worker again (after a pause that grows while it
keeps dying) and stops them all on SIGTERM or SIGINT. A process per worker rather than threads:
the per-frame audio work and the models' Python glue hold the GIL, so one process uses about one
core whatever the box has.

The other listeners: AudioSocket (TCP, a connection per call) shares its port the same way. SIP
does not: a dialog's requests and its RTP must reach the worker that holds the call, so worker
``i`` listens on the configured SIP port + ``i`` with its own slice of the RTP range, and a SIP
proxy in front spreads calls over them (``deploy/kamailio/dispatcher.cfg``).

**SQLite.** Two processes on one project's SQLite stores interleave one conversation's turns and
lose handoffs, so a process serving them holds an exclusive lock file in the data folder and a
second one is refused with the reason. Workers need the shared stores instead (PostgreSQL
trackers, Redis handoff queues and conversation locks), which ``check_shared_stores`` demands.
"""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)
LOCK_FILE = "serving.lock"
WORKER_ENV = "HELPLINE_WORKER"  # "index/count", set by the supervisor for each worker
RESTART_PAUSE_SECS = (1.0, 30.0)  # after a crash, doubling while the worker keeps crashing within a minute


class StoresInUse(RuntimeError):
    """Another process already serves this project's SQLite stores."""


class SingleProcessLock:
    """An exclusive ``flock`` on ``<data_dir>/serving.lock``, held while the process serves.

    The kernel drops it when the process ends however it ends (a crash included), so a stale file
    never blocks a restart.
    """

    def __init__(self, data_dir: Path, stores: list[str]):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / LOCK_FILE
        self._file = open(self.path, "a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise StoresInUse(
                f"{holder} already serves the SQLite stores ({', '.join(stores)}) in {data_dir}. Two processes on "
                "one SQLite project interleave a conversation's turns and lose handoffs. Stop it, or run several "
                "processes on shared stores: trackers in PostgreSQL, handoff queues and conversation locks in "
                "Redis (docs/scaling.md)") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()}\n")
        self._file.flush()

    def release(self) -> None:
        self._file.close()


def check_shared_stores(settings) -> str | None:
    """Why ``settings`` cannot run several workers (None when it can)."""
    problems = []
    sqlite = settings.sqlite_stores()
    if sqlite:
        listed = ", ".join(sqlite[:-1]) + " and " + sqlite[-1] if len(sqlite) > 1 else sqlite[0]
        problems.append(f"{listed} are in SQLite (set tracker_store to postgresql://... and the "
                        "handoff store to redis://...; call records follow a PostgreSQL tracker store)")
    if not settings.lock_store:
        problems.append("no shared conversation lock (endpoints.yml lock_store: {type: redis, ...}, or "
                        "HELPLINE_LOCK_STORE=redis://...)")
    if not problems:
        return None
    return "several workers need shared stores: " + "; ".join(problems) + " (docs/scaling.md)"


def worker_slot() -> tuple[int, int] | None:
    """(index, count) in a worker started by the supervisor, else None."""
    value = os.environ.get(WORKER_ENV)
    if not value:
        return None
    index, _, count = value.partition("/")
    return int(index), int(count)


def apply_worker_slot(settings, index: int, count: int) -> None:
    """This worker's SIP port (base + index) and slice of the RTP range; other listeners are shared."""
    voice = settings.voice
    if voice is None or voice.sip is None:
        return
    sip = voice.sip
    if sip.port:
        sip.port += index
    low, high = sip.rtp_ports
    size = (high - low + 1) // count
    if size < 2:
        raise ValueError(f"voice.sip.rtp_ports {list(sip.rtp_ports)} is too small for {count} workers")
    sip.rtp_ports = (low + index * size, low + (index + 1) * size - 1)


class Supervisor:
    """Starts ``count`` workers running ``argv`` and keeps them running until told to stop."""

    def __init__(self, argv: list[str], count: int, env: dict | None = None):
        self.argv, self.count = argv, count
        self.env = dict(env or os.environ)
        self.workers: list[subprocess.Popen | None] = [None] * count
        self._crashes: list[list[float]] = [[] for _ in range(count)]
        self._due: list[float] = [0.0] * count
        self._stopping = False

    def _start(self, index: int) -> None:
        env = {**self.env, WORKER_ENV: f"{index}/{self.count}"}
        self.workers[index] = subprocess.Popen(self.argv, env=env)
        logger.info("worker started", extra={"worker": index, "pid": self.workers[index].pid})

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        for index in range(self.count):
            self._start(index)
        while not self._stopping:
            self._check()
            time.sleep(0.2)
        return self._shut_down()

    def _check(self) -> None:
        now = time.monotonic()
        for index, worker in enumerate(self.workers):
            if worker is None:
                if now >= self._due[index]:
                    self._start(index)
                continue
            code = worker.poll()
            if code is None:
                continue
            crashes = [t for t in self._crashes[index] if now - t < 60] + [now]
            self._crashes[index] = crashes
            pause = min(RESTART_PAUSE_SECS[0] * 2 ** (len(crashes) - 1), RESTART_PAUSE_SECS[1])
            logger.error("worker ended; starting it again", extra={"worker": index, "pid": worker.pid,
                                                                  "exit_code": code, "restart_in_s": pause})
            self.workers[index] = None
            self._due[index] = now + pause

    def _stop(self, signum, frame) -> None:
        self._stopping = True

    def _shut_down(self, grace: float = 20.0) -> int:
        live = [w for w in self.workers if w is not None and w.poll() is None]
        for worker in live:
            worker.send_signal(signal.SIGTERM)  # aiohttp closes its sites and runs the cleanups
        deadline = time.monotonic() + grace
        for worker in live:
            try:
                worker.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        return 0


def worker_argv(args, model: Path) -> list[str]:
    """The command line of one worker: this ``helpline run`` with the model fixed and no supervisor."""
    argv = [sys.executable, "-m", "helpline.cli", "--project", str(args.project), "--log-level", args.log_level,
            "run", "--model", str(model)]
    for flag, value in (("--host", args.host), ("--port", args.port)):
        if value:
            argv += [flag, str(value)]
    if args.watch:
        argv.append("--watch")
    return argv
