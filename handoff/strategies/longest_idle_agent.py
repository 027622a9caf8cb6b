"""The agent who has been idle longest since their last call gets the next one (fair under load)."""
from handoff.model import Agent

RINGS_ALL = False


def order(agents: list[Agent], last: tuple | None) -> list[Agent]:
    return sorted(agents, key=lambda a: (a.idle_since, a.position, a.id))
