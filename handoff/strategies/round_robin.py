"""Take turns: the agent after the one who got the previous call, wrapping around (queues.conf ``rrmemory``)."""
from handoff.model import Agent

RINGS_ALL = False


def order(agents: list[Agent], last: tuple | None) -> list[Agent]:
    ranked = sorted(agents, key=rota_key)
    if last is None:
        return ranked
    after = [a for a in ranked if rota_key(a) > tuple(last)]
    return after + [a for a in ranked if rota_key(a) <= tuple(last)]


def rota_key(agent: Agent) -> tuple:
    return (agent.position, agent.id)
