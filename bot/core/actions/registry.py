"""Map an action name to the code that runs it."""
from __future__ import annotations

from bot.core.actions import Action
from bot.core.actions.builtin import (
    ActionBack, ActionDeactivateLoop, ActionDefaultFallback, ActionHandoff, ActionRestart,
    ActionSessionStart, CustomAction, NoOpAction, ResponseAction,
)
from bot.core.actions.form import FormAction
from bot.core.actions.knowledge import ActionKnowledge
from bot.core.actions.two_stage_fallback import TwoStageFallbackAction
from bot.core.tracker import ACTION_LISTEN
from bot.training_data.domain import Domain

_DEFAULTS = {a.name: a for a in (
    NoOpAction(ACTION_LISTEN), ActionRestart(), ActionSessionStart(), ActionDefaultFallback(), ActionDeactivateLoop(),
    ActionBack(), ActionHandoff(), NoOpAction("action_revert_fallback_events"), NoOpAction("action_extract_slots"),
    NoOpAction("action_unlikely_intent"),
    TwoStageFallbackAction(), ActionKnowledge(),
)}


class UnknownActionError(LookupError):
    pass


def action_for_name(name: str, domain: Domain) -> Action:
    """Custom actions named in the domain override defaults, as in Rasa."""
    if name in domain.forms:
        return FormAction(name)
    if name in domain.custom_actions:
        return CustomAction(name)
    if name in _DEFAULTS:
        return _DEFAULTS[name]
    if name in domain.responses or name.startswith("utter_"):
        return ResponseAction(name)
    raise UnknownActionError(f"unknown action '{name}'")
