"""Offer the call to every free agent at once; the first to accept takes it."""
from handoff.model import Agent

RINGS_ALL = True


def order(agents: list[Agent], last: tuple | None) -> list[Agent]:
    return sorted(agents, key=lambda a: (a.position, a.id))
