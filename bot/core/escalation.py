"""When the bot should stop trying and hand the caller to a person, and which skill that person needs.

Read from ``helpline: escalation:`` in config.yml. The policy looks at the
conversation after each caller turn (before the next action is predicted), so a
trigger here wins over whatever the dialogue would have done. Every trigger has
a reason name that ends up in the handoff summary and the supervisor's metrics.
Channels add their own reasons through ``MessageProcessor.escalate`` (keypad
zero: ``keypad_zero``, repeated silence: ``no_input``); a failed verification
is handed off by the demo's form (``failed_verification``).

The policy works on the tracker's JSON state, the same shape the handoff port
receives, so the handoff side reuses ``skill_for`` and ``is_vip``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import Field, PositiveInt

from bot.config_model import ConfigModel

FALLBACK_INTENT = "nlu_fallback"
KNOWLEDGE_OUTCOME_SLOT = "knowledge_outcome"
KNOWLEDGE_SKILL_SLOT = "knowledge_skill"

DEFAULT_FRUSTRATION_WORDS = ("ridiculous", "useless", "stupid", "frustrated", "frustrating", "annoyed", "angry",
                             "terrible", "awful", "waste of time", "fed up", "real person", "human being")
RESET_EVENTS = {"resume", "restart", "session_started"}
NEGATIONS = {"no", "nope", "not", "wrong", "nah", "never"}


class LowConfidenceTrigger(ConfigModel):
    threshold: float = Field(ge=0, le=1)
    """A turn whose intent confidence is below this counts."""
    times: PositiveInt
    """Hand off once this many turns of the conversation counted."""


class FrustrationTrigger(ConfigModel):
    keywords: list[str] = list(DEFAULT_FRUSTRATION_WORDS)
    """Words or phrases that hand the caller off at once."""
    negations: PositiveInt | None = None
    """Hand off after this many short "no"/"wrong" answers in a row (none: not counted)."""


class VipTrigger(ConfigModel):
    numbers: list[str] = []
    """Caller IDs of VIP callers (their calls queue with priority)."""
    customers: list[str] = []
    """CRM customer ids of VIP callers."""
    direct: bool = False
    """VIPs skip the bot after their first turn."""


class EscalationConfig(ConfigModel):
    """``helpline: escalation:``: the triggers that hand a caller to a person; a missing one is off."""

    intents: dict[str, str] = {}
    """Intent -> reason: these intents hand off at once (e.g. talk_to_agent: caller_request)."""
    consecutive_fallbacks: PositiveInt | None = None
    low_confidence: LowConfidenceTrigger | None = None
    knowledge_misses: PositiveInt | None = None
    """Knowledge-base misses in one conversation."""
    frustration: FrustrationTrigger | None = None
    vip: VipTrigger = VipTrigger()
    skills: dict[str, str] = {"default": "general"}
    """Intent -> agent skill; ``default`` for any other intent."""


@dataclass
class EscalationPolicy:
    """Triggers, each ``None``/empty when switched off."""

    intents: dict[str, str] = field(default_factory=dict)      # intent -> reason, e.g. talk_to_agent -> caller_request
    max_consecutive_fallbacks: int | None = None
    low_confidence_threshold: float = 0.0
    low_confidence_times: int | None = None
    knowledge_misses: int | None = None
    frustration_words: tuple[str, ...] = ()
    max_negations: int | None = None
    vip_numbers: set[str] = field(default_factory=set)
    vip_customers: set[str] = field(default_factory=set)
    vip_direct: bool = False                                   # VIPs skip the bot after their first turn
    skills: dict[str, str] = field(default_factory=dict)       # intent -> skill
    default_skill: str = "general"

    @classmethod
    def from_config(cls, config: EscalationConfig | Mapping | None) -> "EscalationPolicy":
        """The policy of ``helpline: escalation:`` (a mapping is validated first)."""
        if not isinstance(config, EscalationConfig):
            config = EscalationConfig.model_validate(config or {})
        skills = dict(config.skills)
        low, frustration, vip = config.low_confidence, config.frustration, config.vip
        return cls(
            intents=dict(config.intents),
            max_consecutive_fallbacks=config.consecutive_fallbacks,
            low_confidence_threshold=low.threshold if low else 0.0,
            low_confidence_times=low.times if low else None,
            knowledge_misses=config.knowledge_misses,
            frustration_words=tuple(frustration.keywords) if frustration else (),
            max_negations=frustration.negations if frustration else None,
            vip_numbers=set(vip.numbers),
            vip_customers=set(vip.customers),
            vip_direct=vip.direct,
            default_skill=skills.pop("default", EscalationPolicy.default_skill),
            skills=skills,
        )

    # --- triggers ----------------------------------------------------------------
    def reason(self, state: dict) -> str | None:
        """The reason to hand off now, or None to let the dialogue carry on.

        Counts start afresh after an agent hands the conversation back (``resume``) or it restarts.
        """
        state = {**state, "events": _since_reset(state.get("events") or [])}
        turns = user_turns(state)
        if not turns:
            return None
        latest = turns[-1]
        intent = _intent(latest)
        if intent in self.intents:
            return self.intents[intent]
        if self.vip_direct and self.is_vip(state):
            return "vip"
        if self.max_consecutive_fallbacks and _trailing(turns, lambda t: _intent(t) == FALLBACK_INTENT) \
                >= self.max_consecutive_fallbacks:
            return "repeated_fallback"
        if self.low_confidence_times and sum(
                1 for t in turns if _confidence(t) < self.low_confidence_threshold) >= self.low_confidence_times:
            return "low_confidence"
        if self.knowledge_misses and knowledge_miss_count(state) >= self.knowledge_misses:
            return "knowledge_miss"
        if self.frustration_words and frustration_hits(latest.get("text") or "", self.frustration_words):
            return "frustration"
        if self.max_negations and _trailing(turns, _is_negation) >= self.max_negations:
            return "frustration"
        return None

    # --- routing -----------------------------------------------------------------
    def skill_for(self, state: dict) -> str:
        """The skill the agent needs: the knowledge base's topic if it had one, else the latest mapped intent."""
        slots = state.get("slots") or {}
        if slots.get(KNOWLEDGE_SKILL_SLOT):
            return str(slots[KNOWLEDGE_SKILL_SLOT])
        for turn in reversed(user_turns(state)):
            intent = _intent(turn)
            if intent in self.skills:
                return self.skills[intent]
        return self.default_skill

    def is_vip(self, state: dict) -> bool:
        slots = state.get("slots") or {}
        return bool(caller_number(state) in self.vip_numbers
                    or (slots.get("customer_id") and str(slots["customer_id"]) in self.vip_customers))


def user_turns(state: dict) -> list[dict]:
    return [e for e in state.get("events") or [] if e.get("event") == "user"]


def caller_number(state: dict) -> str | None:
    """Caller ID from the channel's metadata (the first turn that had one), else the verified phone slot."""
    for turn in user_turns(state):
        number = (turn.get("metadata") or {}).get("caller_number")
        if number:
            return str(number)
    phone = (state.get("slots") or {}).get("caller_phone")
    return str(phone) if phone else None


def knowledge_miss_count(state: dict) -> int:
    """How many times the knowledge retriever had no answer in this conversation."""
    return sum(1 for e in state.get("events") or []
               if e.get("event") == "slot" and e.get("name") == KNOWLEDGE_OUTCOME_SLOT and e.get("value") == "miss")


def frustration_hits(text: str, words: tuple[str, ...] = DEFAULT_FRUSTRATION_WORDS) -> int:
    lowered = text.lower()
    return sum(1 for w in words if re.search(r"\b" + re.escape(w) + r"\b", lowered))


def _since_reset(events: list[dict]) -> list[dict]:
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") in RESET_EVENTS:
            return events[index + 1:]
    return events


def _intent(turn: dict) -> str | None:
    return ((turn.get("parse_data") or {}).get("intent") or {}).get("name")


def _confidence(turn: dict) -> float:
    return float(((turn.get("parse_data") or {}).get("intent") or {}).get("confidence") or 0.0)


def _is_negation(turn: dict) -> bool:
    words = re.findall(r"[a-z']+", (turn.get("text") or "").lower())
    return _intent(turn) == "deny" or (0 < len(words) <= 4 and any(w in NEGATIONS for w in words))


def _trailing(turns: list[dict], predicate) -> int:
    count = 0
    for turn in reversed(turns):
        if not predicate(turn):
            break
        count += 1
    return count
