"""Automatic call distribution: queues callers, offers them to agents, and keeps every call accounted for.

One ``ACD`` per process; all state lives in the store, so several processes on
one Redis share queues and agents. Every change that could race (offering a call,
accepting it, the caller hanging up, the agent dropping) is one atomic
``store.update`` over the call and the agent, so a call reaches exactly one agent.

Events go out on the store's bus: ``agent:<id>`` (offers, connections, state)
for desks, ``call:<id>`` (connected, requeued, callback offer, ended) for the
caller's leg, and ``acd`` (something changed: dispatch again) for every process.

This module holds the calls' side (queueing, answering, ending, transferring); agents' states are in
``acd_agents`` and the distribution loop that offers calls and keeps time is in ``acd_distribution``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from bot import observe
from handoff.acd_agents import AgentStates
from handoff.acd_distribution import Distribution
from handoff.ewt import estimated_wait, recent_mean
from handoff.model import (
    ABANDONED,
    AVAILABLE,
    AWAY,
    CALLBACK,
    COMPLETED,
    CONNECTED,
    ON_CALL,
    REJECTED,
    TRANSFERRED,
    VOICEMAIL,
    WAITING,
    WRAP_UP,
    Agent,
    QueueConfig,
    QueuedCall,
    to_dict,
)
from handoff.store.base import ACDStore
from handoff.strategies.round_robin import rota_key

logger = logging.getLogger(__name__)
LOGGED_IN = (AVAILABLE, ON_CALL, WRAP_UP)
# Told what happened to a call ("queued", "rejected", "answered", "transferred", "note", "ended") or that an
# agent changed state ("agent_<state>", call None): how the call records follow the ACD.
Watcher = Callable[[str, QueuedCall | None, str | None], Awaitable[None]]


@dataclass
class Admission:
    accepted: bool
    position: int = 0
    estimated_wait: float = 0.0
    reason: str | None = None  # why not accepted


class UnknownQueue(ValueError):
    pass


class ACD(AgentStates, Distribution):
    def __init__(self, store: ACDStore, queues: list[QueueConfig], clock: Callable[[], float] = time.time,
                 max_no_answer: int = 3, presence_timeout: float = 30.0, default_handle_time: float = 180.0,
                 handle_time_samples: int = 50):
        self.store = store
        self.queues = {q.name: q for q in queues}
        self.clock = clock
        self.max_no_answer = max_no_answer
        self.presence_timeout = presence_timeout
        self.default_handle_time = default_handle_time
        self.handle_time_samples = handle_time_samples
        self._wake = asyncio.Event()
        self._stopping = False
        self.watchers: list[Watcher] = []

    def queue(self, name: str) -> QueueConfig:
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(f"no queue named {name!r}") from None

    def queue_for_skill(self, skill: str) -> QueueConfig:
        """The first queue serving ``skill``, else the first queue (someone should still answer)."""
        return next((q for q in self.queues.values() if q.skill == skill), next(iter(self.queues.values())))

    # --- calls -------------------------------------------------------------------
    async def enqueue(self, call: QueuedCall) -> Admission:
        queue = self.queue(call.queue)
        now = self.clock()
        waiting = [c for c in await self.store.calls() if c.queue == queue.name and c.state == WAITING]
        if queue.max_length is not None and len(waiting) >= queue.max_length:
            call.state, call.ended_at = REJECTED, now
            await self.store.add_record("call", to_dict(call))
            logger.warning("queue full", extra={"queue": queue.name, "call_id": call.id})
            await self._tell("rejected", call)
            return Admission(False, reason="queue_full")
        call.entered_at = call.entered_at or now
        call.queue_entered_at = now
        position = 1 + sum(1 for c in waiting if c.order_key() < call.order_key())
        call.announced_wait = await self.estimated_wait(queue, position)
        await self.store.save_call(call)
        logger.info("call queued", extra={"call_id": call.id, "queue": queue.name, "position": position,
                                          "reason": call.reason})
        await self.store.publish("acd", {"type": "enqueued", "call_id": call.id})
        await self._tell("queued", call)
        self.wake()
        return Admission(True, position, call.announced_wait)

    async def position(self, call_id: str) -> tuple[int, float] | None:
        """(position, estimated wait in seconds) of a waiting call; None once it is not waiting."""
        calls = await self.store.calls()
        call = next((c for c in calls if c.id == call_id), None)
        if call is None or call.state != WAITING:
            return None
        position = 1 + sum(1 for c in calls if c.queue == call.queue and c.state == WAITING
                           and c.order_key() < call.order_key())
        return position, await self.estimated_wait(self.queue(call.queue), position)

    async def estimated_wait(self, queue: QueueConfig, position: int) -> float:
        agents = [a for a in await self.store.agents() if a.proficiency(queue.skill) > 0]
        free = sum(1 for a in agents if a.is_free())
        staffed = sum(1 for a in agents if a.state in LOGGED_IN)
        handle_time = recent_mean(await self.store.get_meta(f"handle_times:{queue.name}"), self.default_handle_time)
        return estimated_wait(position, free, staffed, handle_time + queue.wrap_up_time)

    async def accept(self, call_id: str, agent_id: str) -> bool:
        """The agent answers: exactly one agent wins a call, even when several were rung (ring-all)."""
        now = self.clock()
        rung: list[str] = []

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            if call is None or agent is None or call.state != WAITING or agent.id not in call.offered_to \
                    or agent.offered_call != call.id:
                return False
            rung[:] = [a for a in call.offered_to if a != agent.id]
            call.state, call.agent_id, call.answered_at, call.offered_to = CONNECTED, agent.id, now, []
            agent.state, agent.state_since, agent.current_call, agent.offered_call = ON_CALL, now, call.id, None
            agent.calls_taken += 1
            agent.no_answer_count = 0
            return True

        if not await self.store.update(call_id, agent_id, change):
            return False
        for other in rung:
            await self._withdraw_offer(call_id, other)
        call = await self.store.get_call(call_id)
        observe.timing("queue_wait", now - call.queue_entered_at, queue=call.queue, outcome=CONNECTED)
        agent = await self.store.get_agent(agent_id)
        await self.store.set_meta(f"rota:{call.queue}", list(rota_key(agent)))
        await self._tell("answered", call, agent_id)
        await self._agent_event(agent_id, "connected", call_id=call_id)
        await self.store.publish(f"call:{call_id}", {"type": "connected", "agent_id": agent_id,
                                                     "agent_name": agent.name})
        logger.info("call answered", extra={"call_id": call_id, "agent_id": agent_id})
        return True

    async def no_answer(self, call_id: str, agent_id: str) -> None:
        """The agent let it ring out or declined: count it; after ``max_no_answer`` in a row they go away."""
        now = self.clock()
        went_away = []

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            if agent is None or agent.offered_call != call_id:
                return False
            if call is not None and agent.id in call.offered_to:
                call.offered_to.remove(agent.id)
            agent.offered_call = None
            agent.no_answer_count += 1
            if agent.no_answer_count >= self.max_no_answer:
                agent.state, agent.state_since = AWAY, now
                went_away.append(True)
            return True

        if await self.store.update(call_id, agent_id, change):
            await self._agent_event(agent_id, "offer_withdrawn", call_id=call_id)
            if went_away:
                logger.warning("agent set away after unanswered offers", extra={"agent_id": agent_id})
                await self._agent_event(agent_id, "state", state=AWAY)
            self.wake()

    async def caller_left(self, call_id: str, reason: str = "hangup") -> str | None:
        """The caller hung up: abandoned if still queued, completed if with an agent. Returns the final state."""
        return await self._finish(call_id, lambda call: ABANDONED if call.state == WAITING else COMPLETED, reason)

    async def transferred_out(self, call_id: str, target: str) -> str | None:
        """The caller left for the queue's ``transfer_to`` (blind SIP transfer) before reaching an agent."""
        return await self._finish(call_id, lambda call: TRANSFERRED if call.state == WAITING else None,
                                  f"transferred to {target}")

    async def end_call(self, call_id: str, agent_id: str) -> str | None:
        """The agent connected to the call ended it from the desk (no other agent can)."""
        def ended(call: QueuedCall) -> str | None:
            return COMPLETED if call.state == CONNECTED and call.agent_id == agent_id else None

        state = await self._finish(call_id, ended, "agent")
        if state:
            await self.store.publish(f"call:{call_id}", {"type": "ended", "by": "agent"})
        return state

    async def take_callback(self, call_id: str, number: str | None = None) -> bool:
        """Leave the queue for a callback: number and request are kept (a restart loses none)."""
        call = await self.store.get_call(call_id)
        if call is None or call.state != WAITING:
            return False
        if await self._finish(call_id, lambda c: CALLBACK if c.state == WAITING else None, "callback") is None:
            return False
        await self.store.add_record("callback", {
            "call_id": call_id, "queue": call.queue, "number": number or call.caller_number, "reason": call.reason,
            "request": (call.summary or {}).get("text", ""), "at": self.clock(), "status": "pending"})
        return True

    async def take_voicemail(self, call_id: str, audio_path: str, seconds: float) -> bool:
        call = await self.store.get_call(call_id)
        if call is None or await self._finish(call_id, lambda c: VOICEMAIL if c.state == WAITING else None,
                                              "voicemail") is None:
            return False
        await self.store.add_record("voicemail", {
            "call_id": call_id, "queue": call.queue, "number": call.caller_number, "audio": audio_path,
            "seconds": seconds, "request": (call.summary or {}).get("text", ""), "at": self.clock()})
        return True

    async def transfer(self, call_id: str, agent_id: str, to_queue: str, note: str = "") -> bool:
        """Send a connected call to another queue with its summary and the agent's note; the agent wraps up."""
        target = self.queue(to_queue)
        now = self.clock()

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            if call is None or agent is None or call.state != CONNECTED or call.agent_id != agent.id:
                return False
            call.notes.append(f"{agent.name or agent.id}: transferred to {to_queue}. {note}".strip())
            call.queue, call.skill, call.queue_entered_at = target.name, target.skill, now
            call.state, call.agent_id, call.answered_at, call.head = WAITING, None, None, True
            self._start_wrap_up(agent, now)
            return True

        if not await self.store.update(call_id, agent_id, change):
            return False
        await self._tell("transferred", await self.store.get_call(call_id), agent_id)
        await self.store.publish(f"call:{call_id}", {"type": "transferred", "queue": to_queue})
        await self._agent_event(agent_id, "state", state=WRAP_UP)
        self.wake()
        return True

    async def add_note(self, call_id: str, agent_id: str, note: str) -> bool:
        def change(call: QueuedCall | None, _) -> bool:
            if call is None or call.agent_id != agent_id:
                return False
            call.notes.append(note)
            return True
        if not await self.store.update(call_id, None, change):
            return False
        await self._tell("note", await self.store.get_call(call_id), agent_id)
        return True

    async def _finish(self, call_id: str, final_state: Callable[[QueuedCall], str | None], reason: str) -> str | None:
        call = await self.store.get_call(call_id)
        if call is None:
            return None
        now = self.clock()
        result: list[str] = []
        final: list[QueuedCall] = []
        rung = list(call.offered_to)

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            state = final_state(call) if call is not None else None
            if state is None:
                return False
            if call.state == CONNECTED and agent is not None and agent.current_call == call.id:
                self._start_wrap_up(agent, now)
            call.state, call.ended_at = state, now
            call.notes.append(f"ended: {reason}")
            result.append(state)
            final[:] = [call]
            return True

        if not await self.store.update(call_id, call.agent_id, change):
            return None
        if result[0] != COMPLETED:  # it left the queue without an agent
            observe.timing("queue_wait", now - call.queue_entered_at, queue=call.queue, outcome=result[0])
        if result[0] == ABANDONED:
            observe.count("abandoned", queue=call.queue)
        for agent_id in rung:
            await self._withdraw_offer(call_id, agent_id)
        if call.agent_id and result[0] == COMPLETED:
            await self._remember_handle_time(call.queue, now - (call.answered_at or now))
            await self._agent_event(call.agent_id, "call_ended", call_id=call_id)
        logger.info("call left the queue", extra={"call_id": call_id, "state": result[0], "reason": reason})
        await self._tell("ended", final[0], call.agent_id)
        await self.store.publish("acd", {"type": "ended", "call_id": call_id})
        return result[0]

    def _start_wrap_up(self, agent: Agent, now: float) -> None:
        queue_wrap = max((q.wrap_up_time for q in self.queues.values() if agent.proficiency(q.skill)), default=0.0)
        agent.current_call = None
        agent.idle_since = now
        if queue_wrap > 0:
            agent.state, agent.state_since, agent.wrap_up_until = WRAP_UP, now, now + queue_wrap
        else:
            agent.state, agent.state_since = AVAILABLE, now

    async def _remember_handle_time(self, queue: str, seconds: float) -> None:
        key = f"handle_times:{queue}"
        samples = (await self.store.get_meta(key) or [])[-(self.handle_time_samples - 1):]
        await self.store.set_meta(key, samples + [seconds])

    async def _withdraw_offer(self, call_id: str, agent_id: str) -> None:
        def change(_, agent: Agent | None) -> bool:
            if agent is None or agent.offered_call != call_id:
                return False
            agent.offered_call = None
            return True

        if await self.store.update(None, agent_id, change):
            await self._agent_event(agent_id, "offer_withdrawn", call_id=call_id)

    async def _agent_event(self, agent_id: str, kind: str, **data) -> None:
        await self.store.publish(f"agent:{agent_id}", {"type": kind, **data})
        if kind == "state":
            await self._tell(f"agent_{data['state']}", None, agent_id)

    async def _tell(self, event: str, call: QueuedCall | None, agent_id: str | None = None) -> None:
        """Tell the watchers; one that fails is logged and never stops the ACD."""
        for watcher in self.watchers:
            try:
                await watcher(event, call, agent_id)
            except Exception:
                logger.exception("ACD watcher failed", extra={"event": event, "call_id": call.id if call else None})

