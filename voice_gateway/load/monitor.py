"""The server's CPU and memory while the load runs, sampled from outside with psutil.

The server is a process tree: ``helpline run`` alone, or its supervisor and worker processes
(``--workers N``). Every sample sums the tree: CPU as cores in use since the previous sample
(CPU seconds per wall second), memory as resident set (RSS; shared pages counted in each process)
and proportional set (PSS; shared pages split between the processes that map them, the fair
number for several workers sharing model files).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil


@dataclass
class Sample:
    at: float  # seconds since monitoring started
    cpu_cores: float
    rss_mb: float
    pss_mb: float
    processes: int
    rss_mb_per_process: list[float] = field(default_factory=list)


def server_pids_on_port(port: int) -> list[int]:
    """The processes listening on ``port`` (each worker when they share it), or their supervisor."""
    listening = {c.pid for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid}
    roots = set()
    for pid in listening:
        try:
            parent = psutil.Process(pid).parent()
            roots.add(parent.pid if parent is not None and _is_helpline(parent) else pid)
        except psutil.NoSuchProcess:
            continue
    return sorted(roots)


def _is_helpline(process: psutil.Process) -> bool:
    try:
        return any("helpline" in part for part in process.cmdline())
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return False


class ServerMonitor:
    """Samples a process and its descendants; ``sample()`` is cheap enough for every second or two."""

    def __init__(self, pids: list[int]):
        self.roots = [psutil.Process(pid) for pid in pids]
        self.samples: list[Sample] = []
        self._started = time.monotonic()
        self._cpu_before: dict[int, float] = {}
        self._at_before = self._started
        self._cpu_before = self._cpu_seconds()

    def _processes(self) -> list[psutil.Process]:
        found = {}
        for root in self.roots:
            try:
                for process in [root, *root.children(recursive=True)]:
                    found[process.pid] = process
            except psutil.NoSuchProcess:
                continue
        return list(found.values())

    def _cpu_seconds(self) -> dict[int, float]:
        seconds = {}
        for process in self._processes():
            try:
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return seconds

    def sample(self) -> Sample:
        now = time.monotonic()
        cpu = self._cpu_seconds()
        # A process that appeared since (a restarted worker) counts from its start: its whole CPU time.
        used = sum(seconds - self._cpu_before.get(pid, 0.0) for pid, seconds in cpu.items())
        cores = max(0.0, used / max(now - self._at_before, 1e-6))
        self._cpu_before, self._at_before = cpu, now
        rss, pss = [], 0.0
        for process in self._processes():
            try:
                memory = process.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss.append(memory.rss / 2**20)
            pss += getattr(memory, "pss", memory.rss) / 2**20
        sample = Sample(round(now - self._started, 1), round(cores, 3), round(sum(rss), 1), round(pss, 1),
                        len(rss), [round(r, 1) for r in rss])
        self.samples.append(sample)
        return sample
