"""Login throttling and the password-check pool: guessing is slow, and a flood of guesses slows nothing else.

Failures are counted per account and per client address in a sliding window; past the limit, a
login is refused with 429 and ``Retry-After`` before any password is hashed. Password checks
(scrypt, about 40 ms of one core each) run on their own one-thread pool with a short queue, so a
flood can use at most one core, at a lower priority than the rest of the server, and never the
default pool that serves NLU and the stores; when the queue is full the login answers 503 at once.
The counts live in the process: each server process of a site throttles on its own (a site with N
processes allows N times the rate).
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

MAX_TRACKED = 10_000
PASSWORD_NICE = 10  # how much lower the password thread's priority is than the server's


class SlidingWindow:
    """Failure times per key within ``window`` seconds; forgets the oldest keys past ``MAX_TRACKED``."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: OrderedDict[str, deque] = OrderedDict()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        times = self._prune(key)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window - self.clock())

    def fail(self, key: str) -> None:
        times = self._prune(key) or deque()
        times.append(self.clock())
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _prune(self, key: str) -> deque | None:
        times = self._failures.get(key)
        if times is None:
            return None
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        return times


class LoginThrottle:
    def __init__(self, per_account: int = 5, per_address: int = 20, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.accounts = SlidingWindow(per_account, window, clock)
        self.addresses = SlidingWindow(per_address, window, clock)

    def retry_after(self, account: str, address: str) -> float:
        return max(self.accounts.retry_after(account.lower()), self.addresses.retry_after(address))

    def failed(self, account: str, address: str) -> None:
        self.accounts.fail(account.lower())
        self.addresses.fail(address)

    def succeeded(self, account: str) -> None:
        self.accounts.clear(account.lower())


class PoolBusy(Exception):
    """Too many password checks are waiting."""


def _yield_to_calls() -> None:
    """Run the password thread at a lower priority (Linux sets a thread's nice value by its id), so that
    on a busy box the scheduler serves NLU and calls before guesses; elsewhere it keeps the default."""
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + PASSWORD_NICE))
    except (AttributeError, OSError):
        pass


class PasswordPool:
    """One thread for password hashing with at most ``max_waiting`` checks queued."""

    def __init__(self, max_waiting: int = 8):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check",
                                            initializer=_yield_to_calls)
        self._max_waiting = max_waiting
        self._waiting = 0

    async def run(self, function, *args):
        if self._waiting >= self._max_waiting:
            raise PoolBusy()
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
