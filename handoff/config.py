"""``helpline: handoff:`` in config.yml: the store, the queues and the demo agents."""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from handoff.model import Agent, QueueConfig
from handoff.passwords import check_hash, hash_password
from handoff.strategies import strategy

logger = logging.getLogger(__name__)

_QUEUE_FIELDS = {f.name for f in dataclasses.fields(QueueConfig)}


class HandoffConfigError(ValueError):
    pass


@dataclass
class HandoffSettings:
    store: str | None = None                 # sqlite (default) | sqlite:///PATH | redis://HOST:PORT/DB
    queues: list[QueueConfig] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict)  # agent id -> desk password hash
    max_no_answer: int = 3
    presence_timeout: float = 30.0
    default_handle_time: float = 180.0
    vip_priority: int = 10
    webhook: str | None = None               # CRM: POST the summary here when a call is queued
    service_level_seconds: float = 20.0
    alerts: dict[str, float] = field(default_factory=lambda: {"service_level_below": 0.8, "waiting_above": 5})


def load_handoff_settings(raw: dict[str, Any] | None) -> HandoffSettings:
    """Parse and check the section; errors name the queue or agent at fault."""
    raw = dict(raw or {})
    queues = [_queue(q) for q in raw.get("queues") or [{"name": "general", "skill": "general"}]]
    names = {q.name for q in queues}
    for q in queues:
        if q.overflow_to and q.overflow_to not in names:
            raise HandoffConfigError(f"queue {q.name!r}: overflow_to names no queue ({q.overflow_to!r})")
    agents, credentials = [], {}
    for position, item in enumerate(raw.get("agents") or [], start=1):
        if not isinstance(item, dict) or not item.get("id"):
            raise HandoffConfigError(f"helpline.handoff.agents[{position - 1}] needs an 'id'")
        skills = {str(k): int(v) for k, v in (item.get("skills") or {}).items()}
        agents.append(Agent(str(item["id"]), str(item.get("name") or item["id"]), skills, position))
        credential = _credential(item, position - 1)
        if credential:
            credentials[str(item["id"])] = credential
    settings = HandoffSettings(store=raw.get("store"), queues=queues, agents=agents, credentials=credentials)
    for key, kind in (("max_no_answer", int), ("presence_timeout", float), ("default_handle_time", float),
                      ("vip_priority", int), ("webhook", str), ("service_level_seconds", float)):
        if raw.get(key) is not None:
            try:
                setattr(settings, key, kind(raw[key]))
            except (TypeError, ValueError):
                raise HandoffConfigError(f"helpline.handoff.{key} must be a {kind.__name__}, not {raw[key]!r}") from None
    settings.alerts.update(raw.get("alerts") or {})
    return settings


def _credential(item: dict, index: int) -> str | None:
    """The agent's password hash: ``password_hash`` as given, or a plain ``password`` hashed here."""
    if item.get("password_hash"):
        try:
            check_hash(str(item["password_hash"]))
        except ValueError as error:
            raise HandoffConfigError(f"helpline.handoff.agents[{index}] ({item['id']}): {error}") from None
        return str(item["password_hash"])
    if item.get("password"):
        logger.warning("plain desk password in config.yml: replace it with password_hash",
                       extra={"agent_id": str(item["id"]), "command": "helpline desk hash-password"})
        return hash_password(str(item["password"]))
    return None  # no desk login for this agent


def _queue(item: Any) -> QueueConfig:
    if not isinstance(item, dict) or not item.get("name"):
        raise HandoffConfigError(f"every helpline.handoff.queues entry needs a 'name' (got {item!r})")
    unknown = set(item) - _QUEUE_FIELDS
    if unknown:
        raise HandoffConfigError(f"queue {item['name']!r}: unknown settings {sorted(unknown)}")
    queue = QueueConfig(**{"skill": item["name"], **item})
    strategy(queue.strategy)  # an unknown strategy is an error now, not at the first call
    if queue.transfer_to is not None and not str(queue.transfer_to).startswith(("sip:", "sips:")):
        raise HandoffConfigError(f"queue {queue.name!r}: transfer_to must be a sip: URI, not {queue.transfer_to!r}")
    queue.tiers = [int(t) for t in queue.tiers]
    return queue
