"""The whole ``helpline:`` section of config.yml as one typed schema, composed from each package's section.

Each package owns the model of its own section (``bot.knowledge.config``,
``bot.core.escalation``, ``bot.crm.config``, ``bot.security.lockout``,
``handoff.config``, ``voice_gateway.config``); this module, in the composition root, puts them
together, adds the server and storage keys, validates a project's section with
``file:line: helpline.key.path: problem`` errors and exports the JSON Schema that
editors' IDEs use for config.yml (``helpline config schema``).

A new section is one more field on :class:`HelplineConfig`, typed with the
package's ``ConfigModel``; then regenerate ``docs/config.schema.json``.
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from bot.config import BotConfig
from bot.config_model import ConfigModel, validate_section
from bot.core.escalation import EscalationConfig
from bot.crm.config import CrmConfig
from bot.knowledge.config import KnowledgeConfig
from bot.security.lockout import LockoutPolicy
from handoff.config import HandoffConfig
from helpline.security.config import AuthConfig
from voice_gateway.config import VoiceConfig

TRACKER_STORE = re.compile(r"^(memory|sqlite|sqlite:///.+|postgres(ql)?://.+)$")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Paths = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=str | list[str])]


class ServerConfig(ConfigModel):
    host: str = "127.0.0.1"
    """Address the HTTP API, the voice WebSockets and the pages listen on (env HELPLINE_HOST)."""
    port: int = Field(5005, ge=1, le=65535)
    """Env HELPLINE_PORT."""


class HelplineConfig(ConfigModel):
    """``helpline:`` in config.yml: Helpline's own settings (Rasa ignores this section)."""

    domain: Paths = []
    """Domain file(s) or folder(s), relative to the project (default: domain.yml or domain/)."""
    data: Paths = []
    """Training data folders or files (default: data/)."""
    tests: str = "tests"
    """Test stories: a file or a folder."""
    actions: list[str] = []
    """Python packages of rasa-sdk actions run in process."""
    sensitive_slots: list[str] = []
    """Slots whose answers are masked in stored turns, logs and recordings."""
    verification: LockoutPolicy = LockoutPolicy()
    """Failed PIN and date-of-birth checks counted per customer across calls, and the lockout they lead to."""
    auth: AuthConfig = AuthConfig()
    """Who signs in, and the limits on signing in (README, Security)."""
    server: ServerConfig = ServerConfig()
    data_dir: str = ".helpline"
    """SQLite trackers, the demo CRM and the handoff store (env HELPLINE_DATA_DIR)."""
    models_dir: str = "models"
    """Trained model archives (env HELPLINE_MODELS_DIR)."""
    models_keep: int = Field(10, ge=1)
    """Model versions kept in models_dir, with their results (helpline models list); the active one always is."""
    tracker_store: str | None = None
    """memory, sqlite (default, in data_dir), sqlite:///PATH or postgresql://... (env HELPLINE_TRACKER_STORE)."""
    crm: CrmConfig = CrmConfig()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    escalation: EscalationConfig = EscalationConfig()
    handoff: HandoffConfig = HandoffConfig()
    voice: VoiceConfig | None = None
    """The phone gateway; without it the bot answers no calls and loads no speech models."""

    @field_validator("tracker_store")
    @classmethod
    def _known_tracker_store(cls, value: str | None) -> str | None:
        if value is not None and not TRACKER_STORE.match(value):
            raise ValueError("use memory, sqlite, sqlite:///PATH or postgresql://...")
        return value


class ConfigFile(BaseModel):
    """A whole config.yml, for the JSON Schema only: Rasa's keys stay open, ``helpline:`` is strict."""

    model_config = ConfigDict(extra="allow", title="Helpline config.yml")

    recipe: str | None = None
    language: str | None = "en"
    pipeline: list[dict[str, Any]] | None = None
    policies: list[dict[str, Any]] | None = None
    helpline: HelplineConfig | None = None


def load_helpline_config(config: BotConfig) -> HelplineConfig:
    """The project's ``helpline:`` section, validated; errors name config.yml, the line and the key path."""
    raw = config.helpline
    return validate_section(HelplineConfig, raw, config.path, "helpline",
                            default_line=config.key_lines.get("helpline"))


def json_schema() -> str:
    """The JSON Schema of config.yml (``helpline config schema``; docs/config.schema.json)."""
    schema = ConfigFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
