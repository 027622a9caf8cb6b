"""Estimated wait time: what the caller is told on entering the queue and at each announcement.

With ``staffed`` agents all busy and handle times roughly exponential, an agent
frees up every ``handle_time / staffed`` seconds on average, so the caller at
``position`` waits about ``position * handle_time / staffed`` (Erlang C's
conditional wait for the caller at the back of the line).
"""
from __future__ import annotations


def estimated_wait(position: int, free_agents: int, staffed_agents: int, handle_time: float) -> float:
    if position <= free_agents:
        return 0.0
    if staffed_agents <= 0:
        return float("inf")
    return (position - free_agents) * handle_time / staffed_agents


def recent_mean(samples: list[float] | None, default: float) -> float:
    """Mean of the recent handle times; the configured default until there are any."""
    return sum(samples) / len(samples) if samples else default
