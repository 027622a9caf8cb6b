"""Always try agents in their configured order: the first free one in the list gets the call."""
from handoff.model import Agent

RINGS_ALL = False


def order(agents: list[Agent], last: tuple | None) -> list[Agent]:
    return sorted(agents, key=lambda a: (a.position, a.id))
