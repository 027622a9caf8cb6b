"""Dialogue policies: rules, memoization and a generalizing classifier, combined by an ensemble."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Prediction:
    """One policy's choice of next action."""

    action: str
    confidence: float
    policy: str
    priority: int

    def __str__(self) -> str:
        return f"{self.action} ({self.policy}, {self.confidence:.2f})"
