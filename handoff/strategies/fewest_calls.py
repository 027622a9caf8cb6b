"""The agent who has taken the fewest calls so far gets the next one."""
from handoff.model import Agent

RINGS_ALL = False


def order(agents: list[Agent], last: tuple | None) -> list[Agent]:
    return sorted(agents, key=lambda a: (a.calls_taken, a.idle_since, a.id))
