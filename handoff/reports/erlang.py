"""Erlang C: how many agents answer a given traffic within a target service level.

Written here rather than taken from a library: the one maintained workforce package on PyPI
(pyworkforce) needs pandas and OR-Tools for what is a dozen lines of arithmetic, and its results
are the same formula's. The probability of waiting uses Erlang B's recurrence, which stays exact
for hundreds of agents where the textbook form's ``A**N / N!`` overflows.

Units: traffic ``A`` in erlangs = calls per hour x handle time (s) / 3600.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def wait_probability(traffic: float, agents: int) -> float:
    """Erlang C: the chance a call has to wait, ``agents`` answering ``traffic`` erlangs (1 when overloaded)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = 1.0  # Erlang B with 0 agents
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(traffic: float, agents: int, handle_seconds: float, answer_seconds: float) -> float:
    """Share of calls answered within ``answer_seconds``."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1 - wait_probability(traffic, agents) * math.exp(-(agents - traffic) * answer_seconds / handle_seconds)


def average_speed_of_answer(traffic: float, agents: int, handle_seconds: float) -> float:
    if agents <= traffic:
        return math.inf
    return wait_probability(traffic, agents) * handle_seconds / (agents - traffic)


@dataclass(frozen=True)
class Staffing:
    traffic: float          # erlangs
    agents: int             # on the phones, answering
    scheduled: int          # to roster, once shrinkage (breaks, training, absence) takes its share
    service_level: float
    asa_seconds: float
    occupancy: float


def agents_needed(calls_per_hour: float, handle_seconds: float, target: float = 0.8, answer_seconds: float = 20.0,
                  max_occupancy: float = 0.85, shrinkage: float = 0.3) -> Staffing:
    """The fewest agents that meet ``target`` within ``answer_seconds`` without being busier than
    ``max_occupancy``, and the number to schedule so that that many are on the phones."""
    if not 0 < target < 1 or not 0 < max_occupancy <= 1 or not 0 <= shrinkage < 1:
        raise ValueError("target and max_occupancy are fractions in (0, 1], shrinkage in [0, 1)")
    traffic = max(0.0, calls_per_hour) * max(0.0, handle_seconds) / 3600
    if traffic == 0:
        return Staffing(0.0, 0, 0, 1.0, 0.0, 0.0)
    agents = max(1, math.ceil(traffic / max_occupancy))
    while service_level(traffic, agents, handle_seconds, answer_seconds) < target:
        agents += 1
    return Staffing(round(traffic, 3), agents, math.ceil(agents / (1 - shrinkage)),
                    round(service_level(traffic, agents, handle_seconds, answer_seconds), 4),
                    round(average_speed_of_answer(traffic, agents, handle_seconds), 1), round(traffic / agents, 3))
