"""Ring strategies, named as in Asterisk queues.conf / FreeSWITCH mod_callcenter.

Each module's ``order(agents, last)`` ranks the free agents who may take a
call (``last``: the rota place of the agent who got the previous call); ``ring-all`` offers the call to all of them at once (the first to accept
gets it). The ACD reserves agents in the order given.
"""
from __future__ import annotations

from types import ModuleType

from handoff.strategies import fewest_calls, longest_idle_agent, ring_all, round_robin, top_down

STRATEGIES: dict[str, ModuleType] = {
    "longest-idle-agent": longest_idle_agent,
    "round-robin": round_robin,
    "fewest-calls": fewest_calls,
    "ring-all": ring_all,
    "top-down": top_down,
}


def strategy(name: str) -> ModuleType:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown queue strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
