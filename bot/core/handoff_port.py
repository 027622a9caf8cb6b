"""The port through which the bot asks for a human; the app plugs the handoff module in.

The bot knows nothing about queues or agents: ``action_handoff`` hands a
:class:`HandoffRequest` to whatever port the composition root wired in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass
class HandoffRequest:
    sender_id: str
    reason: str
    tracker: dict  # the tracker in Rasa's JSON shape: everything the agent's summary is built from


@dataclass
class HandoffOutcome:
    accepted: bool
    message: str | None = None  # spoken to the caller, e.g. the estimated wait


class HandoffPort(Protocol):
    async def request_handoff(self, request: HandoffRequest) -> HandoffOutcome: ...


@dataclass
class RecordingHandoffPort:
    """Used when no handoff module is wired in: accepts and keeps the requests for the API to show."""

    requests: list[HandoffRequest] = field(default_factory=list)
    limit: int = 1000

    async def request_handoff(self, request: HandoffRequest) -> HandoffOutcome:
        self.requests.append(request)
        del self.requests[:-self.limit]
        logger.info("handoff requested", extra={"sender_id": request.sender_id, "reason": request.reason})
        return HandoffOutcome(accepted=True)
