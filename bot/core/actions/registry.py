"""Map an action name to the code that runs it."""
from __future__ import annotations

from bot.core.actions import Action
from bot.core.actions.builtin import (
    ActionBack, ActionDeactivateLoop, ActionDefaultFallback, ActionHandoff, ActionRestart,
    ActionSessionStart, CustomAction, NoOpAction, ResponseAction, RetrievalResponseAction,
)
from bot.core.actions.form import FormAction
from bot.core.actions.knowledge import ActionKnowledge
from bot.core.actions.two_stage_fallback import TwoStageFallbackAction
from bot.core.tracker import ACTION_LISTEN
from bot.training_data.domain import Domain
from bot.training_data.retrieval import RESPONSE_PREFIX

_DEFAULTS = {a.name: a for a in (
    NoOpAction(ACTION_LISTEN), ActionRestart(), ActionSessionStart(), ActionDefaultFallback(), ActionDeactivateLoop(),
    ActionBack(), ActionHandoff(), NoOpAction("action_revert_fallback_events"), NoOpAction("action_extract_slots"),
    NoOpAction("action_unlikely_intent"),
    TwoStageFallbackAction(), ActionKnowledge(),
)}


class UnknownActionError(LookupError):
    pass


def action_for_name(name: str, domain: Domain) -> Action:
    """Rasa's order: a default action (unless the domain's own action or form replaces it), then every
    ``utter_`` name is a response (a retrieval response for ``utter_faq``), even when the domain also
    lists it under ``actions:``; then forms, then custom actions."""
    if name in _DEFAULTS and name not in domain.custom_actions and name not in domain.forms:
        return _DEFAULTS[name]
    if name in domain.retrieval_actions:
        return RetrievalResponseAction(name)
    if name.startswith(RESPONSE_PREFIX):
        return ResponseAction(name)
    if name in domain.forms:
        return FormAction(name)
    if name in domain.custom_actions:
        return CustomAction(name)
    raise UnknownActionError(f"unknown action '{name}'")
