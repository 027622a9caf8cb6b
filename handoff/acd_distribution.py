"""Distribution: offers waiting calls to free agents, and makes the changes that time brings.

Dispatch ranks free agents with the queue's strategy (one at a time, or all at once for ring-all) and
opens skill tiers as a call waits; ticks end wrap-ups, withdraw unanswered offers, sign out desks that
went quiet, overflow calls to another queue and offer callbacks. ``run`` does both whenever anything
changes, in this process or in another on the same store, and at least every interval.
"""
from __future__ import annotations

import asyncio
import logging

from handoff.model import AVAILABLE, OFFLINE, WAITING, WRAP_UP, Agent, QueueConfig, QueuedCall, to_dict
from handoff.strategies import strategy

logger = logging.getLogger(__name__)


class Distribution:
    """The ``ACD``'s distribution loop: it uses the ACD's store, clock, queues, agents and calls."""

    def wake(self) -> None:
        self._wake.set()

    async def dispatch(self) -> int:
        """Offer waiting calls to free agents, best call first; returns how many offers were made."""
        now = self.clock()
        agents = await self.store.agents()
        waiting = sorted((c for c in await self.store.calls() if c.state == WAITING), key=QueuedCall.order_key)
        offers = 0
        for call in waiting:
            queue = self.queues.get(call.queue)
            if queue is None:
                continue
            ring = strategy(queue.strategy)
            if call.offered_to and not ring.RINGS_ALL:
                continue
            min_proficiency = queue.tier_min_proficiency(now - call.queue_entered_at)
            free = [a for a in agents if a.is_free() and a.proficiency(queue.skill) >= min_proficiency
                    and a.id not in call.offered_to]
            if not free:
                continue
            ranked = ring.order(free, await self.store.get_meta(f"rota:{queue.name}"))
            for agent in ranked:
                if await self._offer(call, agent, ring.RINGS_ALL, now):
                    offers += 1
                    agent.offered_call = call.id
                    if not ring.RINGS_ALL:
                        break
        return offers

    async def _offer(self, call: QueuedCall, agent: Agent, rings_all: bool, now: float) -> bool:
        offered: list[dict] = []  # the call as the offer recorded it (read again, it may be gone already)

        def change(call: QueuedCall | None, agent: Agent | None) -> bool:
            if call is None or agent is None or call.state != WAITING or not agent.is_free():
                return False
            if call.offered_to and not rings_all:
                return False
            call.offered_to.append(agent.id)
            call.offered_at = now
            agent.offered_call, agent.offer_expires = call.id, now + self.queues[call.queue].ring_timeout
            offered.append(to_dict(call))
            return True

        if not await self.store.update(call.id, agent.id, change):
            return False
        await self._agent_event(agent.id, "offer", call=offered[-1])
        return True

    async def tick(self) -> None:
        """Time-driven changes: wrap-up ends, unanswered offers, lost desks, overflow, callback offers."""
        now = self.clock()
        for agent in await self.store.agents():
            if agent.state == WRAP_UP and agent.wrap_up_until and now >= agent.wrap_up_until:
                await self._end_wrap_up(agent.id, now)
            if agent.offered_call and now >= agent.offer_expires:
                await self.no_answer(agent.offered_call, agent.id)
            if agent.state != OFFLINE and agent.heartbeat and now - agent.heartbeat > self.presence_timeout:
                await self.agent_disconnected(agent.id)
        for call in await self.store.calls():
            if call.state != WAITING:
                continue
            queue = self.queues.get(call.queue)
            if queue is None:
                continue
            if queue.overflow_to and queue.overflow_after is not None \
                    and now - call.queue_entered_at >= queue.overflow_after and not call.offered_to:
                await self._overflow(call.id, self.queue(queue.overflow_to), now)
            elif queue.max_wait is not None and now - call.entered_at >= queue.max_wait and not call.callback_offered:
                await self._offer_callback(call.id)

    async def _end_wrap_up(self, agent_id: str, now: float) -> None:
        def change(_, agent: Agent | None) -> bool:
            if agent is None or agent.state != WRAP_UP:
                return False
            agent.state, agent.state_since, agent.idle_since, agent.wrap_up_until = AVAILABLE, now, now, 0.0
            return True

        if await self.store.update(None, agent_id, change):
            await self._agent_event(agent_id, "state", state=AVAILABLE)
            self.wake()

    async def _overflow(self, call_id: str, target: QueueConfig, now: float) -> None:
        def change(call: QueuedCall | None, _) -> bool:
            if call is None or call.state != WAITING or call.offered_to:
                return False
            call.overflowed_from, call.queue, call.skill, call.queue_entered_at = call.queue, target.name, \
                target.skill, now
            return True

        if await self.store.update(call_id, None, change):
            logger.info("call overflowed", extra={"call_id": call_id, "queue": target.name})
            self.wake()

    async def _offer_callback(self, call_id: str) -> None:
        def change(call: QueuedCall | None, _) -> bool:
            if call is None or call.state != WAITING or call.callback_offered:
                return False
            call.callback_offered = True
            return True

        if await self.store.update(call_id, None, change):
            await self.store.publish(f"call:{call_id}", {"type": "callback_offer"})

    def stop(self) -> None:
        """End ``run`` after its current round (a flag, not cancellation: the Redis client can absorb a cancel)."""
        self._stopping = True
        self._wake.set()

    async def run(self, interval: float = 0.5) -> None:
        """Dispatch whenever something changes here or in another process, and tick at least every ``interval``."""
        async with self.store.subscribe("acd") as remote:
            async def relay() -> None:
                while True:
                    await remote.get()
                    self._wake.set()

            relay_task = asyncio.create_task(relay())
            self._stopping = False
            try:
                while not self._stopping:
                    try:  # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                        async with asyncio.timeout(interval):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                    self._wake.clear()
                    if self._stopping:
                        break
                    try:
                        await self.tick()
                        await self.dispatch()
                    except Exception:  # a store hiccup must not stop distribution
                        logger.exception("ACD loop failed; retrying")
            finally:
                relay_task.cancel()
