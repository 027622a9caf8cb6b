"""Agents at their desks: who is configured, signed in, available or away, and whose desk went quiet.

Each change is one atomic ``store.update`` over the agent and any call offered to or held by them, so
an agent who steps away or whose desk drops never keeps a caller: an offer is withdrawn, a connected
caller goes back to the head of the queue. Sign-ins and sign-outs are kept as presence records.
"""
from __future__ import annotations

import logging

from handoff.model import AVAILABLE, AWAY, CONNECTED, OFFLINE, ON_CALL, WAITING, WRAP_UP, Agent, QueuedCall

logger = logging.getLogger(__name__)
PRESENCE = "presence"  # record kind: {"agent_id", "signed_in", "at"}


class AgentStates:
    """The ``ACD``'s agent side: it uses the ACD's store, clock, events and wake-up."""

    async def register_agent(self, agent: Agent) -> None:
        """Add a configured agent; one already stored keeps its state and counters (restart), takes new skills."""
        stored = await self.store.get_agent(agent.id)
        if stored is not None:
            stored.name, stored.skills, stored.position = agent.name, agent.skills, agent.position
            agent = stored
        await self.store.save_agent(agent)

    async def set_agent_state(self, agent_id: str, state: str) -> bool:
        """Agent-chosen state changes: available, away, offline (not while on a call). A pending offer is dropped."""
        now = self.clock()
        stored = await self.store.get_agent(agent_id)
        pending = stored.offered_call if stored is not None and state != AVAILABLE else None

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            if agent is None or agent.state == ON_CALL or state not in (AVAILABLE, AWAY, OFFLINE, WRAP_UP):
                return False
            if state == AVAILABLE and agent.state != AVAILABLE:
                agent.idle_since = now
                agent.no_answer_count = 0
            agent.state, agent.state_since, agent.heartbeat = state, now, now
            if state != AVAILABLE:
                agent.offered_call = None
                if call is not None and agent.id in call.offered_to:
                    call.offered_to.remove(agent.id)
            return True

        changed = await self.store.update(pending, agent_id, change)
        if changed:
            if stored is not None and (stored.state == OFFLINE) != (state == OFFLINE):
                await self._presence(agent_id, state != OFFLINE, now)
            await self._agent_event(agent_id, "state", state=state)
            self.wake()
        return changed

    async def _presence(self, agent_id: str, signed_in: bool, now: float) -> None:
        """Sign-ins and sign-outs, kept as records: the staff plan compares them with the agents needed."""
        await self.store.add_record(PRESENCE, {"agent_id": agent_id, "signed_in": signed_in, "at": now})

    async def heartbeat(self, agent_id: str) -> None:
        """The desk is still there (presence): ``tick`` logs out agents whose heartbeats stop."""
        now = self.clock()

        def change(_, agent: Agent | None) -> bool:
            if agent is None:
                return False
            agent.heartbeat = now
            return True

        await self.store.update(None, agent_id, change)

    async def agent_disconnected(self, agent_id: str) -> None:
        """The desk went away: log the agent out; a call they had goes back to the head of the queue."""
        agent = await self.store.get_agent(agent_id)
        if agent is None:
            return
        call_id = agent.current_call or agent.offered_call
        now = self.clock()

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            if agent is None:
                return False
            if call is not None and call.agent_id == agent.id and call.state == CONNECTED:
                call.state, call.agent_id, call.answered_at, call.head = WAITING, None, None, True
                call.offered_to = []
            elif call is not None and agent.id in call.offered_to:
                call.offered_to.remove(agent.id)
            agent.state, agent.state_since = OFFLINE, now
            agent.current_call = agent.offered_call = None
            return True

        if await self.store.update(call_id, agent_id, change) and agent.state != OFFLINE:
            await self._presence(agent_id, False, now)
        if agent.current_call:
            logger.warning("agent dropped a call; caller back at the head of the queue",
                           extra={"agent_id": agent_id, "call_id": call_id})
            await self.store.publish(f"call:{call_id}", {"type": "requeued"})
        self.wake()
