"""``helpline: handoff: scorecard:`` in config.yml: the automatic quality checks and how much each counts.

The same scorecard is what a supervisor fills in by hand (``handoff.quality.review``), so manual
and automatic scores are comparable.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, field_validator

from bot.config_model import ConfigModel

Check = Literal["greeting", "verified_first", "resolved", "silence", "talk_over", "sentiment"]
CHECKS: tuple[str, ...] = Check.__args__


class ScorecardConfig(ConfigModel):
    """Each check passes or fails; the score is the weight of the passed checks over all weights, 0..100."""

    weights: dict[Check, NonNegativeInt] = {"greeting": 10, "verified_first": 25, "resolved": 25, "silence": 10,
                                             "talk_over": 10, "sentiment": 20}
    """Check -> weight; a check left out (or weighted 0) does not count."""
    greeting_actions: list[str] = ["utter_greet"]
    """The bot greeted the caller when one of these ran in its first turn."""
    verified_slot: str = "verified"
    """The slot the bot sets true once the caller's identity is verified."""
    account_actions: list[str] = ["action_account_balance"]
    """Actions that read account data: they must come after the verification."""
    long_silence_secs: float = Field(10.0, gt=0)
    """Dead air longer than this between the bot's words and the caller's next ones fails ``silence``."""
    max_barge_ins: NonNegativeInt = 1
    """More caller turns spoken over the bot than this fails ``talk_over``."""
    sentiment_drop: float = Field(0.3, gt=0, le=2)
    """``sentiment`` fails when the caller's mood falls by more than this (-1..1 scale) or ends negative."""
    phrases: list[str] = ["cancel my account", "lawyer", "complaint"]
    """Said in either leg (or written in the agent's notes): the call is flagged for review."""
    review_below: float = Field(60.0, ge=0, le=100)
    """A score below this flags the call for review."""

    @field_validator("phrases")
    @classmethod
    def _phrases_have_words(cls, phrases: list[str]) -> list[str]:
        cleaned = [" ".join(p.lower().split()) for p in phrases]
        if any(not p for p in cleaned):
            raise ValueError("a phrase must have at least one word")
        return cleaned
