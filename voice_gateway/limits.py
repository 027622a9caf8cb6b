"""How much of the gateway one peer may take: connections at once, and how fast a call may send.

A phone line sends audio in real time; a client that floods the gateway (thousands of messages, or
minutes of audio a second) would take the CPU that the other calls' recognition needs, so its call
ends. Connections are counted from the upgrade (or TCP accept) until the call is closed, in total
(``max_calls``) and per client address (``max_connections_per_address``).
"""
from __future__ import annotations

import logging
import time
from collections import Counter

logger = logging.getLogger(__name__)
BURST_SECS = 2.0  # a call may catch up this many seconds of its allowance at once (network jitter)


class TokenBucket:
    """``rate`` units a second with a burst of ``rate * BURST_SECS``.

    The gateway needs a check that answers at once (over the limit: end the call), counted in two
    units (messages, seconds of audio); async limiter libraries wait for capacity instead, so this
    is the classic bucket in a few lines."""

    def __init__(self, rate: float, clock=time.monotonic):
        self.rate, self.capacity, self.clock = rate, rate * BURST_SECS, clock
        self.level, self.updated = self.capacity, clock()

    def take(self, amount: float = 1.0) -> bool:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now
        if self.level < amount:
            return False
        self.level -= amount
        return True


class ConnectionLimits:
    """Open voice connections, in total and per client address; the limits are read from the voice
    settings at each new connection, so a changed setting applies to the next call."""

    def __init__(self, config):
        self.config = config  # voice_gateway.config.VoiceConfig
        self.by_address: Counter[str] = Counter()

    @property
    def open(self) -> int:
        return sum(self.by_address.values())

    def admit(self, address: str | None, protocol: str) -> str | None:
        """Count a new connection; returns why it is refused instead, when it is (and logs it)."""
        address = address or "unknown"
        if self.open >= self.config.max_calls:
            reason = f"the gateway is at its limit of {self.config.max_calls} calls"
        elif self.by_address[address] >= self.config.max_connections_per_address:
            reason = f"too many connections from this address (at most {self.config.max_connections_per_address})"
        else:
            self.by_address[address] += 1
            return None
        logger.warning("voice connection refused", extra={"protocol": protocol, "peer": address, "reason": reason,
                                                          "open_connections": self.open})
        return reason

    def release(self, address: str | None) -> None:
        address = address or "unknown"
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]
