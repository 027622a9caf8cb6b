"""``helpline: handoff:`` in config.yml: the store, the queues and the demo agents."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, PositiveInt, ValidationError, field_validator, model_validator

from bot.config_model import ConfigModel, config_errors
from handoff.model import Agent, QueueConfig
from handoff.quality.config import ScorecardConfig
from bot.security.passwords import check_hash

class HandoffConfigError(ValueError):
    pass


class AgentConfig(ConfigModel):
    """A desk login: who the agent is, what they can take, and their password's scrypt hash."""

    id: str = Field(min_length=1)
    name: str | None = None
    """Shown on the desk and the supervisor page (default: the id)."""
    skills: dict[str, Annotated[int, Field(ge=0, le=10)]] = {}
    """Skill -> proficiency 0..10 (tiers pick agents by it)."""
    password_hash: str | None = None
    """What `helpline desk hash-password` prints (scrypt); without one the agent cannot sign in."""
    password: str | None = None
    """Refused: config.yml never holds a password."""

    @field_validator("password_hash")
    @classmethod
    def _known_hash(cls, value: str | None) -> str | None:
        if value is not None:
            check_hash(value)
        return value

    @field_validator("password")
    @classmethod
    def _no_plain_password(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError("a plain password is not accepted in config.yml: put the output of "
                             "`helpline desk hash-password` in password_hash")


class AlertsConfig(ConfigModel):
    service_level_below: float = Field(0.8, ge=0, le=1)
    """The supervisor page warns when the share of calls answered within service_level_seconds falls below this."""
    waiting_above: int = Field(5, ge=0)
    """... or when more callers than this are waiting."""


class ReportsConfig(ConfigModel):
    """Reports and the staff plan (``helpline report``, the supervisor's reports page)."""

    timezone: str = "UTC"
    """The contact centre's time zone (IANA name, e.g. Europe/London): days, hours and weeks are its local ones."""
    service_level_target: float = Field(0.8, gt=0, lt=1)
    """The staff plan's target: this share of calls answered within service_level_seconds."""
    shrinkage: float = Field(0.3, ge=0, lt=1)
    """Share of paid time agents are not on the phones (breaks, training, absence): rostered = needed / (1 - this)."""
    max_occupancy: float = Field(0.85, gt=0, le=1)
    """The plan never keeps agents busier than this share of their signed-in time."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/London)") from None
        return value


class RecordsConfig(ConfigModel):
    """Where the call history (one record per call) is kept."""

    store: str | None = None
    """sqlite (default: data_dir/records.sqlite3) | sqlite:///PATH | postgresql://USER@HOST/DB. Unset with a
    PostgreSQL tracker store: that database. HELPLINE_RECORDS_STORE overrides it."""


class HandoffConfig(ConfigModel):
    """``helpline: handoff:``: queues (Asterisk queues.conf / FreeSWITCH mod_callcenter terms) and agents."""

    store: str | None = None
    """sqlite (default) | sqlite:///PATH | redis://HOST:PORT/DB (shares queues between gateway processes)."""
    queues: list[QueueConfig] = [QueueConfig("general")]
    agents: list[AgentConfig] = []
    max_no_answer: PositiveInt = 3
    """Unanswered offers in a row before an agent is set away."""
    presence_timeout: float = Field(30.0, gt=0)
    """Seconds without desk heartbeats before an agent is offline."""
    default_handle_time: float = Field(180.0, gt=0)
    """Seconds per call for the estimated wait until calls have been handled."""
    vip_priority: int = 10
    webhook: str | None = None
    """CRM: POST the summary here when a call is queued."""
    service_level_seconds: float = Field(20.0, gt=0)
    alerts: AlertsConfig = AlertsConfig()
    reports: ReportsConfig = ReportsConfig()
    kpi_window_hours: float = Field(24.0, gt=0, le=24 * 31)
    """The supervisor page's KPIs cover the calls that started in the last this many hours."""
    records: RecordsConfig = RecordsConfig()
    scorecard: ScorecardConfig = ScorecardConfig()
    """The quality checks every call is scored on at its end (and supervisors score by hand)."""

    @model_validator(mode="after")
    def _names_are_consistent(self) -> "HandoffConfig":
        names = [q.name for q in self.queues]
        for queue in self.queues:
            if names.count(queue.name) > 1:
                raise ValueError(f"two queues are called {queue.name!r}")
            if queue.overflow_to and queue.overflow_to not in names:
                raise ValueError(f"queue {queue.name!r}: overflow_to names no queue ({queue.overflow_to!r})")
        ids = [a.id for a in self.agents]
        for agent_id in ids:
            if ids.count(agent_id) > 1:
                raise ValueError(f"two agents have the id {agent_id!r}")
        return self


@dataclass
class HandoffSettings:
    """What the handoff service runs with: the validated section and its agents (who sign in as users)."""

    config: HandoffConfig
    store: str | None
    agents: list[Agent]


def load_handoff_settings(config: HandoffConfig | Mapping | None) -> HandoffSettings:
    """The section as the service runs it; a mapping is validated first (errors name the key path)."""
    if not isinstance(config, HandoffConfig):
        try:
            config = HandoffConfig.model_validate(config or {})
        except ValidationError as error:
            problems = config_errors(error, HandoffConfig, config, None, "helpline.handoff")
            raise HandoffConfigError("\n".join(str(p) for p in problems)) from None
    agents = [Agent(item.id, item.name or item.id, dict(item.skills), position)
              for position, item in enumerate(config.agents, start=1)]
    return HandoffSettings(config, config.store, agents)
