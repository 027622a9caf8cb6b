"""A caller who says nothing: reprompt after a silence, and after N reprompts hand off or say goodbye."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config_model import ConfigModel


class NoInputConfig(ConfigModel):
    """``helpline: voice: no_input:``."""

    timeout_secs: float = Field(7.0, gt=0)
    """Silence after the bot's prompt that counts as no input."""
    reprompts: int = Field(2, ge=0)
    """Reprompts before giving up."""
    then: Literal["handoff", "hang_up"] = "handoff"
    """What follows the last reprompt: a person, or goodbye."""
    reprompt: str = "Sorry, I didn't hear anything."
    goodbye: str = "I still can't hear you, so I'll end the call now. Please call back any time. Goodbye."


class NoInputPolicy:
    """One call's count of silences in a row, against its ``NoInputConfig``."""

    def __init__(self, config: NoInputConfig | None = None):
        self.config = config or NoInputConfig()
        self.silences = 0

    @property
    def timeout_secs(self) -> float:
        return self.config.timeout_secs

    @property
    def reprompt_text(self) -> str:
        return self.config.reprompt

    @property
    def goodbye_text(self) -> str:
        return self.config.goodbye

    def on_silence(self) -> str:
        """What to do about one more silence: "reprompt", "handoff" or "hang_up"."""
        self.silences += 1
        return "reprompt" if self.silences <= self.config.reprompts else self.config.then

    def on_input(self) -> None:
        self.silences = 0
