"""A caller who says nothing: reprompt after a silence, and after N reprompts hand off or say goodbye."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REPROMPT = "Sorry, I didn't hear anything."
DEFAULT_GOODBYE = "I still can't hear you, so I'll end the call now. Please call back any time. Goodbye."


@dataclass
class NoInputPolicy:
    timeout_secs: float = 7.0
    reprompts: int = 2
    then: str = "handoff"  # or "hang_up"
    reprompt_text: str = DEFAULT_REPROMPT
    goodbye_text: str = DEFAULT_GOODBYE
    silences: int = 0  # in a row

    @classmethod
    def from_config(cls, config: dict) -> "NoInputPolicy":
        then = config.get("then", "handoff")
        if then not in ("handoff", "hang_up"):
            raise ValueError(f"helpline.voice.no_input.then must be 'handoff' or 'hang_up', not {then!r}")
        return cls(timeout_secs=float(config.get("timeout_secs", 7.0)), reprompts=int(config.get("reprompts", 2)),
                   then=then, reprompt_text=config.get("reprompt", DEFAULT_REPROMPT),
                   goodbye_text=config.get("goodbye", DEFAULT_GOODBYE))

    def on_silence(self) -> str:
        """What to do about one more silence: "reprompt", "handoff" or "hang_up"."""
        self.silences += 1
        return "reprompt" if self.silences <= self.reprompts else self.then

    def on_input(self) -> None:
        self.silences = 0
