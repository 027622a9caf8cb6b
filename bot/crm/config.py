"""``helpline: crm:`` in config.yml: which customer directory the bot's actions look callers up in."""
from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from bot.config_model import ConfigModel


class CrmConfig(ConfigModel):
    type: Literal["sqlite", "http"] = "sqlite"
    """sqlite: the seeded demo directory in data_dir; http: a CRM behind Helpline's HTTP connector."""
    base_url: str | None = None
    """http: the CRM API's base URL."""

    @model_validator(mode="after")
    def _http_needs_a_url(self) -> "CrmConfig":
        if self.type == "http" and not self.base_url:
            raise ValueError("type http needs a base_url")
        return self
