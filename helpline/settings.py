"""The ``helpline:`` section of config.yml, validated, with environment overrides for deployment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.config import BotConfig
from bot.crm.config import CrmConfig
from bot.training_data.yaml_reader import TrainingDataError
from handoff.records import records_store_url
from helpline.config_schema import HelplineConfig, load_helpline_config
from helpline.endpoints import read_endpoints
from voice_gateway.config import VoiceConfig


@dataclass
class Settings:
    """What the server runs with: the validated section (``config``) and the values the environment overrides."""

    project: Path
    config: HelplineConfig
    host: str
    port: int
    data_dir: Path
    models_dir: Path
    tracker_store: str | None  # None: SQLite in data_dir; "memory"; "postgresql://..."
    action_endpoint: str | None
    redis_prefix: str = "helpline"  # key prefix of the published model version in a shared Redis
    lock_store: str | None = None  # None: in this process; "redis://...": shared by every process
    lock_key_prefix: str = ""

    def sqlite_stores(self) -> list[str]:
        """The stores kept in SQLite files in data_dir, which one process at a time may serve."""
        stores = []
        if self.tracker_store is None or self.tracker_store.startswith("sqlite"):
            stores.append("trackers")
        if not str(self.handoff_store).startswith(("redis://", "rediss://", "unix://")):
            stores.append("handoff queues")
        if not str(self.records_store).startswith(("postgresql://", "postgres://")):
            stores.append("call records")
        return stores

    @property
    def records_store(self) -> str | None:
        return records_store_url(self.config.handoff.records.store, self.tracker_store)

    @property
    def handoff_store(self) -> str | None:
        return os.environ.get("HELPLINE_HANDOFF_STORE", self.config.handoff.store)

    @property
    def models_keep(self) -> int:
        return self.config.models_keep

    @property
    def action_packages(self) -> list[str]:
        return self.config.actions

    @property
    def crm(self) -> CrmConfig:
        return self.config.crm

    @property
    def sensitive_slots(self) -> set[str]:
        return set(self.config.sensitive_slots)

    @property
    def voice(self) -> VoiceConfig | None:
        return self.config.voice


def load_settings(project: Path, config: BotConfig) -> Settings:
    """Validate ``helpline:`` (errors name config.yml, line and key) and apply HELPLINE_* overrides."""
    section = load_helpline_config(config)
    port = os.environ.get("HELPLINE_PORT")
    if port is not None and not port.isdigit():
        raise TrainingDataError(f"HELPLINE_PORT must be a port number, not {port!r}")
    sip_port = os.environ.get("HELPLINE_SIP_PORT")  # several processes on one box, each its own SIP port
    if sip_port is not None and section.voice is not None and section.voice.sip is not None:
        if not sip_port.isdigit():
            raise TrainingDataError(f"HELPLINE_SIP_PORT must be a port number, not {sip_port!r}")
        section.voice.sip.port = int(sip_port)
    endpoints = read_endpoints(project / "endpoints.yml")
    return Settings(
        project=project,
        config=section,
        host=os.environ.get("HELPLINE_HOST", section.server.host),
        port=int(port) if port is not None else section.server.port,
        data_dir=project / os.environ.get("HELPLINE_DATA_DIR", section.data_dir),
        models_dir=project / os.environ.get("HELPLINE_MODELS_DIR", section.models_dir),
        tracker_store=os.environ.get("HELPLINE_TRACKER_STORE") or endpoints.tracker_store or section.tracker_store,
        action_endpoint=endpoints.action_url,
        lock_store=os.environ.get("HELPLINE_LOCK_STORE") or endpoints.lock_store,
        lock_key_prefix=endpoints.lock_key_prefix,
        redis_prefix=os.environ.get("HELPLINE_REDIS_PREFIX", "helpline"),
    )
