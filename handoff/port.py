"""The bot's ``HandoffPort``, implemented with the ACD: queue the caller with a summary, tell them the wait."""
from __future__ import annotations

import asyncio
import logging

from bot.core.escalation import EscalationPolicy
from bot.core.handoff_port import HandoffOutcome, HandoffRequest
from handoff.acd import ACD
from handoff.announcements import queue_position
from handoff.crm_webhook import post_summary
from handoff.model import WAITING, QueuedCall
from handoff.summary import build_summary

logger = logging.getLogger(__name__)


class ACDHandoffPort:
    def __init__(self, acd: ACD, policy: EscalationPolicy, sensitive_slots: set[str], vip_priority: int = 10,
                 webhook: str | None = None):
        self.acd = acd
        self.policy = policy
        self.sensitive_slots = sensitive_slots
        self.vip_priority = vip_priority
        self.webhook = webhook
        self._webhook_tasks: set[asyncio.Task] = set()

    async def request_handoff(self, request: HandoffRequest) -> HandoffOutcome:
        existing = await self.acd.position(request.sender_id)
        if existing is not None:  # asked again while queued: same place in line
            return HandoffOutcome(True, queue_position(*existing))
        skill = self.policy.skill_for(request.tracker)
        queue = self.acd.queue_for_skill(skill)
        summary = build_summary(request.tracker, request.reason, skill, self.policy, self.sensitive_slots)
        summary["queue"] = queue.name
        caller = summary["caller"]
        call = QueuedCall(request.sender_id, queue.name, queue.skill, request.reason, caller["number"],
                          self.vip_priority if caller["vip"] else 0, state=WAITING, summary=summary)
        admission = await self.acd.enqueue(call)
        if not admission.accepted:
            return HandoffOutcome(False)
        if self.webhook:
            task = asyncio.create_task(post_summary(self.webhook, summary))
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)
        return HandoffOutcome(True, queue_position(admission.position, admission.estimated_wait))
