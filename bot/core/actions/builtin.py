"""Responses, custom actions and Rasa's default actions."""
from __future__ import annotations

import logging

from bot import observe
from bot.core.actions import ActionContext, bot_event
from bot.core.actions.custom import ActionFailed, ActionRejected
from bot.core.events import (
    ActionExecuted, ActionExecutionRejected, ActiveLoop, ConversationPaused, Event, Restarted, SessionStarted,
    SlotSet, UserUtteranceReverted,
)
from bot.core.handoff_port import HandoffRequest
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.nlu.response_selector import DEFAULT_KEY
from bot.training_data.domain import HANDOFF_REASON_SLOT, REQUESTED_SLOT, SESSION_START_METADATA_SLOT
from bot.training_data.retrieval import RESPONSE_PREFIX, base_intent, response_for

logger = logging.getLogger(__name__)


class ResponseAction:
    """``utter_*``: say a domain response."""

    def __init__(self, name: str):
        self.name = name

    async def run(self, context: ActionContext) -> list[Event]:
        return context.utter(self.name)


class RetrievalResponseAction:
    """``utter_faq``: say the response of the sub-intent the NLU chose (Rasa's ActionRetrieveResponse).

    The choice is in the user message's ``response_selector`` (under the retrieval intent, else
    ``default``); a message that names the sub-intent itself (a story, ``/faq/ask_name``) is used as is.
    """

    def __init__(self, name: str):
        self.name = name

    async def run(self, context: ActionContext) -> list[Event]:
        message = context.tracker.latest_message
        parse_data = message.parse_data if message else {}
        retrieval_intent = self.name[len(RESPONSE_PREFIX):]
        full = (parse_data.get("intent") or {}).get("full_retrieval_intent_name")
        if not (full and base_intent(full) == retrieval_intent):
            selector = parse_data.get("response_selector") or {}
            selected = selector.get(retrieval_intent) or selector.get(DEFAULT_KEY) or {}
            full = (selected.get("response") or {}).get("intent_response_key")
        if not full:
            logger.warning("no response selected", extra={"action": self.name})
            return []
        return context.utter(response_for(full))


async def run_custom_action(context: ActionContext, name: str, tracker: DialogueStateTracker) -> list[Event]:
    """Run a custom action on ``tracker``; its responses become BotUttered events.

    Raises ActionRejected when the action refuses; a failing action is logged and does nothing.
    """
    try:
        result = await context.runner.run(name, tracker.current_state(), context.domain.to_dict())
    except ActionFailed as error:
        logger.error("custom action failed", extra={"action": name, "error": str(error)})
        return []
    events: list[Event] = []
    for response in result.responses:
        template = response.get("response") or response.get("template")
        if template:
            kwargs = {k: v for k, v in response.items() if k not in ("response", "template", "text")}
            message = context.nlg.generate(template, tracker.slots, context.channel, **kwargs)
            if message is None:
                logger.error("unknown response from action", extra={"action": name, "response": template})
                continue
            events.append(bot_event(message))
        else:
            events.append(bot_event(response))
    return events + result.events


class CustomAction:
    """An action whose code lives in rasa-sdk action packages or an action server."""

    def __init__(self, name: str):
        self.name = name

    async def run(self, context: ActionContext) -> list[Event]:
        try:
            return await run_custom_action(context, self.name, context.tracker)
        except ActionRejected:
            return [ActionExecutionRejected(name=self.name)]


class ActionRestart:
    name = "action_restart"

    async def run(self, context: ActionContext) -> list[Event]:
        return [*context.utter("utter_restart"), Restarted()]


class ActionSessionStart:
    """Starts a new session, carrying slots over if the domain says so."""

    name = "action_session_start"

    async def run(self, context: ActionContext) -> list[Event]:
        tracker = context.tracker
        events: list[Event] = [SessionStarted()]
        if context.domain.session_config.carry_over_slots_to_new_session:
            events += [SlotSet(name=n, value=v) for n, v in tracker.slots.items()
                       if v is not None and v != context.domain.slots[n].initial_value]
        if context.metadata:
            events.append(SlotSet(name=SESSION_START_METADATA_SLOT, value=context.metadata))
        return events + [ActionExecuted(name=ACTION_LISTEN)]


class ActionDefaultFallback:
    name = "action_default_fallback"

    async def run(self, context: ActionContext) -> list[Event]:
        return [*context.utter("utter_default"), UserUtteranceReverted()]


class ActionDeactivateLoop:
    name = "action_deactivate_loop"

    async def run(self, context: ActionContext) -> list[Event]:
        return [ActiveLoop(name=None), SlotSet(name=REQUESTED_SLOT, value=None)]


class ActionBack:
    name = "action_back"

    async def run(self, context: ActionContext) -> list[Event]:
        return [*context.utter("utter_back"), UserUtteranceReverted(), UserUtteranceReverted()]


class NoOpAction:
    """Default actions with nothing to do when run: listening ends the turn, ``action_extract_slots`` already ran
    after the user message, ``action_unlikely_intent`` only marks a turn, and this engine's two-stage
    fallback reverts its own events."""

    def __init__(self, name: str):
        self.name = name

    async def run(self, context: ActionContext) -> list[Event]:
        return []


class ActionHandoff:
    """Ask the wired-in handoff port for a person; on acceptance the bot pauses for the agent."""

    name = "action_handoff"

    async def run(self, context: ActionContext) -> list[Event]:
        tracker = context.tracker
        reason = str(tracker.slots.get(HANDOFF_REASON_SLOT) or "caller_request")
        events: list[Event] = [*context.utter("utter_handoff"), SlotSet(name=HANDOFF_REASON_SLOT, value=reason)]
        observe.count("escalation", reason=reason)
        outcome = await context.handoff.request_handoff(HandoffRequest(tracker.sender_id, reason, tracker.current_state()))
        if outcome.message:
            events.append(bot_event({"text": outcome.message}))
        if outcome.accepted:
            events.append(ConversationPaused())
        else:
            events += context.utter("utter_handoff_unavailable")
        return events
