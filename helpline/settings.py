"""The ``helpline:`` section of config.yml, with environment overrides for deployment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import BotConfig
from bot.training_data.yaml_reader import TrainingDataError, read_yaml_file


@dataclass
class Settings:
    project: Path
    host: str = "127.0.0.1"
    port: int = 5005
    data_dir: Path = Path(".helpline")
    models_dir: Path = Path("models")
    tracker_store: str | None = None  # None: SQLite in data_dir; "memory"; "postgresql://..."
    action_packages: list[str] = field(default_factory=list)
    action_endpoint: str | None = None
    crm: dict = field(default_factory=dict)
    sensitive_slots: set[str] = field(default_factory=set)
    voice: dict = field(default_factory=dict)  # the voice gateway's section (voice_gateway.config)
    models_keep: int = 10  # model versions kept in models_dir (the active one always is)
    redis_prefix: str = "helpline"  # key prefix of the published model version in a shared Redis


def load_settings(project: Path, config: BotConfig) -> Settings:
    raw = config.helpline
    server = raw.get("server") or {}
    settings = Settings(
        project=project,
        host=os.environ.get("HELPLINE_HOST", server.get("host", "127.0.0.1")),
        port=int(os.environ.get("HELPLINE_PORT", server.get("port", 5005))),
        data_dir=project / os.environ.get("HELPLINE_DATA_DIR", raw.get("data_dir", ".helpline")),
        models_dir=project / os.environ.get("HELPLINE_MODELS_DIR", raw.get("models_dir", "models")),
        tracker_store=os.environ.get("HELPLINE_TRACKER_STORE", raw.get("tracker_store")),
        action_packages=list(raw.get("actions") or []),
        crm=dict(raw.get("crm") or {}),
        sensitive_slots=set(raw.get("sensitive_slots") or []),
        voice=dict(raw.get("voice") or {}),
        models_keep=_models_keep(raw.get("models_keep", 10), config),
        redis_prefix=os.environ.get("HELPLINE_REDIS_PREFIX", "helpline"),
    )
    settings.action_endpoint = _action_endpoint(project / "endpoints.yml")
    return settings


def _models_keep(value, config: BotConfig) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrainingDataError(f"helpline.models_keep must be a whole number of versions, at least 1 (not {value!r})",
                                config.path)
    return value


def _action_endpoint(path: Path) -> str | None:
    """Rasa's endpoints.yml ``action_endpoint.url``, if the project has one."""
    if not path.exists():
        return None
    data = read_yaml_file(path) or {}
    endpoint = data.get("action_endpoint") if isinstance(data, dict) else None
    if endpoint is None:
        return None
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("url"), str):
        raise TrainingDataError("action_endpoint needs a 'url'", path, getattr(endpoint, "line", None))
    return os.path.expandvars(endpoint["url"])
