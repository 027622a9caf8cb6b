"""Verification lockout: failed PIN and date-of-birth checks counted per customer, across calls and channels.

A form gives a caller a few tries per conversation; that alone lets anyone guess again by simply
calling again. Here every failed check of a customer's secrets counts against that customer,
wherever it came from, and ``max_failures`` within ``window_hours`` locks the account out of
self-service verification for ``lockout_hours``: the bot says so and hands the caller to a person.
A lockout is announced to every alert the composition root wires (the audit log, the supervisor
page): the bot knows nothing of either, as it knows nothing of the handoff queues.

Actions reach the guard with ``current()``; the app decides what it is with ``configure()``.
Settings: ``helpline: verification:`` in config.yml.
"""
from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pydantic import PositiveFloat, PositiveInt

from bot.config_model import ConfigModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lockout:
    customer_id: str
    until: float              # epoch seconds
    failures: int
    conversation_id: str = ""  # the conversation whose failure locked the account


class LockoutPolicy(ConfigModel):
    """``helpline: verification:``: how many failed checks of one customer lock phone verification, and how long."""

    max_failures: PositiveInt = 5
    """Failed PIN or date-of-birth checks of one customer, across calls and channels, that lock the account."""
    window_hours: PositiveFloat = 24.0
    """The window, in hours, over which those failures are counted."""
    lockout_hours: PositiveFloat = 4.0
    """How long the account then cannot be verified by phone (the caller is handed to a person)."""

    @property
    def window_seconds(self) -> float:
        return self.window_hours * 3600

    @property
    def lockout_seconds(self) -> float:
        return self.lockout_hours * 3600


class AttemptStore(ABC):
    """Failed checks and lockouts per customer; SQLite for one server, Redis for a site of several."""

    @abstractmethod
    async def add_failure(self, customer_id: str, at: float, window: float) -> int:
        """Record a failure at ``at``; the failures within ``window`` seconds before it, this one included."""

    @abstractmethod
    async def lock(self, lockout: Lockout) -> None: ...

    @abstractmethod
    async def lockout(self, customer_id: str, now: float) -> Lockout | None:
        """The customer's lockout if it still holds at ``now``."""

    @abstractmethod
    async def lockouts(self, now: float) -> list[Lockout]:
        """Every lockout that still holds at ``now``."""

    @abstractmethod
    async def clear_failures(self, customer_id: str) -> None: ...

    async def close(self) -> None:
        return None


LockoutAlert = Callable[[Lockout], None]


@dataclass
class VerificationGuard:
    store: AttemptStore
    policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    alerts: list[LockoutAlert] = field(default_factory=list)
    clock: Callable[[], float] = time.time

    async def lockout(self, customer_id: str) -> Lockout | None:
        """The lockout that keeps this customer from verifying now, if any."""
        return await self.store.lockout(str(customer_id), self.clock())

    async def failed(self, customer_id: str, conversation_id: str = "") -> Lockout | None:
        """Count a failed check; the lockout it starts when it is one too many (alerts are told)."""
        now = self.clock()
        failures = await self.store.add_failure(str(customer_id), now, self.policy.window_seconds)
        if failures < self.policy.max_failures:
            return None
        lockout = Lockout(str(customer_id), now + self.policy.lockout_seconds, failures, conversation_id)
        await self.store.lock(lockout)
        logger.warning("verification locked", extra={"customer_id": lockout.customer_id, "failures": failures,
                                                      "locked_until": round(lockout.until),
                                                      "conversation_id": conversation_id})
        for alert in self.alerts:
            try:
                alert(lockout)
            except Exception:  # an alert that fails must not keep the caller from hearing why
                logger.exception("verification lockout alert failed")
        return lockout

    async def passed(self, customer_id: str) -> None:
        """A successful check: earlier slips no longer count."""
        await self.store.clear_failures(str(customer_id))

    async def lockouts(self) -> list[Lockout]:
        return await self.store.lockouts(self.clock())

    async def close(self) -> None:
        await self.store.close()


_guard: VerificationGuard | None = None


def configure(guard: VerificationGuard | None) -> None:
    """Make ``guard`` the one actions use; None goes back to the default on next use."""
    global _guard
    _guard = guard


def current() -> VerificationGuard:
    """The configured guard; without one, a SQLite store in ``$HELPLINE_DATA_DIR`` (as the demo CRM)."""
    global _guard
    if _guard is None:
        from bot.security.lockout_stores import create_attempt_store

        _guard = VerificationGuard(create_attempt_store(None, Path(os.environ.get("HELPLINE_DATA_DIR", ".helpline"))))
    return _guard
