"""One user message in, the bot's replies out: the heart of a conversation turn.

Follows Rasa's MessageProcessor: start a session if needed, parse the message,
log it, extract slots, then predict and run actions until the bot listens.
Turns of the same conversation are serialized; different conversations run
concurrently.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot import observe
from bot.core.actions import ActionContext
from bot.core.actions.builtin import run_custom_action
from bot.core.actions.custom import ActionRejected, ActionRunner
from bot.core.actions.registry import UnknownActionError, action_for_name
from bot.core.actions.slot_extraction import custom_mapping_actions, extract_slots
from bot.core.escalation import EscalationPolicy
from bot.core.events import (
    ActionExecuted, ActionExecutionRejected, BotUttered, Event, Restarted, SessionStarted, SlotSet, UserUttered,
    UserUtteranceReverted,
)
from bot.core.handoff_port import HandoffPort
from bot.core.lock_store import InMemoryLockStore
from bot.core.nlg import NaturalLanguageGenerator
from bot.core.policies.ensemble import PolicyEnsemble
from bot.core.redaction import redact_turn
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.training_data.domain import HANDOFF_REASON_SLOT, Domain
from bot.training_data.retrieval import base_intent
from bot.training_data.stories import parse_intent_trigger

logger = logging.getLogger(__name__)
MAX_PREDICTIONS = 10
CORE_FALLBACK, NLU_FALLBACK = "action_default_fallback", "nlu_fallback"  # the fallbacks the metrics count


class Interpreter(Protocol):
    def parse(self, text: str) -> dict: ...


class TrackerStore(Protocol):
    async def retrieve(self, sender_id: str) -> list[Event] | None: ...

    async def append(self, sender_id: str, events: list[Event]) -> None: ...


@dataclass
class UserMessage:
    text: str
    sender_id: str
    input_channel: str = "rest"
    metadata: dict = field(default_factory=dict)
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class BotModel:
    """What a trained model archive gives the processor."""

    domain: Domain
    interpreter: Interpreter
    ensemble: PolicyEnsemble
    fingerprint: str = ""


def parse_trigger(text: str, domain: Domain) -> dict | None:
    """``/intent{"entity": "value"}`` bypasses NLU, as in Rasa (used for buttons and the keypad).

    ``/faq/payment_methods`` names a retrieval intent's sub-intent: the intent is ``faq``.
    An entity named like a protected slot (``/check_balance{"verified": true}``) is dropped: a
    client may choose its intent, never vouch for itself.
    """
    trigger = parse_intent_trigger(text)
    if trigger is None or base_intent(trigger[0]) not in domain.intents:
        return None
    full, entities = trigger
    refused = sorted(set(entities) & domain.protected_slots)
    if refused:
        logger.warning("protected slots in an intent trigger ignored", extra={"slots": refused})
        entities = {k: v for k, v in entities.items() if k not in refused}
    intent = {"name": base_intent(full), "confidence": 1.0}
    if full != intent["name"]:
        intent["full_retrieval_intent_name"] = full
    return {"text": text, "intent": intent, "intent_ranking": [{"name": intent["name"], "confidence": 1.0}],
            "entities": [{"entity": k, "value": v, "start": 0, "end": len(text), "extractor": "intent_trigger"}
                         for k, v in entities.items()]}


def parse_message(text: str, domain: Domain, interpreter: Interpreter) -> dict:
    """What the bot understands from ``text``: an intent trigger as written, anything else through NLU."""
    return parse_trigger(text, domain) or interpreter.parse(text)


class MessageProcessor:
    def __init__(self, model: BotModel, store: TrackerStore, runner: ActionRunner, handoff: HandoffPort,
                 sensitive_slots: set[str] | None = None, max_predictions: int = MAX_PREDICTIONS,
                 escalation: EscalationPolicy | None = None, lock_store=None):
        self.model = model
        self.lock_store = lock_store or InMemoryLockStore()
        self.escalation = escalation
        self.sensitive_slots = sensitive_slots or set()
        self.store = store
        self.runner = runner
        self.handoff = handoff
        self.max_predictions = max_predictions

    def _conversation(self, sender_id: str):
        """Serialize the turns of one conversation (across processes with a shared lock store)."""
        return self.lock_store.lock(sender_id)

    def swap_model(self, model: BotModel) -> None:
        """Hot reload: the next turn uses the new model; turns in flight finish with the old one."""
        self.model = model

    async def parse(self, text: str) -> dict:
        trigger = parse_trigger(text, self.model.domain)
        if trigger is not None:
            return trigger
        interpreter = self.model.interpreter
        with observe.timed("nlu"):
            return await asyncio.to_thread(interpreter.parse, text)  # to_thread: its log lines keep the conversation id

    async def get_tracker(self, sender_id: str) -> DialogueStateTracker:
        events = await self.store.retrieve(sender_id) or []
        return DialogueStateTracker(sender_id, self.model.domain, events)

    async def handle_message(self, message: UserMessage) -> list[dict]:
        """Process one message and return the bot's messages for the channel."""
        async def turn(context: ActionContext, model: BotModel) -> None:
            observe.count("turn", channel=message.input_channel)
            await self._start_session_if_needed(context)
            parse_data = await self.parse(message.text)
            if (parse_data.get("intent") or {}).get("name") == NLU_FALLBACK:
                observe.count("fallback", kind="nlu")
            tracker = context.tracker
            tracker.update(UserUttered(text=message.text, parse_data=parse_data, input_channel=message.input_channel,
                                       message_id=message.message_id, metadata=message.metadata))
            if tracker.paused:
                return
            await self._extract_slots(context)
            reason = self.escalation.reason(tracker.current_state()) if self.escalation else None
            if reason is not None:
                await self._hand_off(context, model, reason)
            else:
                with observe.timed("dialogue"):
                    await self._predict_and_run(context, model.ensemble)

        return await self._turn(message.sender_id, message.input_channel, turn, message.metadata)

    async def execute_action(self, sender_id: str, action_name: str, channel: str = "rest") -> list[dict]:
        """Run an action as if predicted (Rasa's ``/conversations/{id}/execute``), then continue the turn."""
        async def turn(context: ActionContext, model: BotModel) -> None:
            if await self._run_action(context, action_name, "request", 1.0):
                await self._predict_and_run(context, model.ensemble)

        return await self._turn(sender_id, channel, turn)

    async def escalate(self, sender_id: str, reason: str, channel: str = "rest") -> list[dict]:
        """Hand the caller to a person for a reason the channel saw (keypad 0, repeated silence)."""
        return await self._turn(sender_id, channel, lambda context, model: self._hand_off(context, model, reason))

    async def _turn(self, sender_id: str, channel: str,
                    run: Callable[[ActionContext, BotModel], Awaitable[None]],
                    metadata: dict | None = None) -> list[dict]:
        """One turn of a conversation: load its tracker, ``run(context, model)``, store the new events.

        The events are stored redacted when the turn touched a sensitive slot (a PIN asked for or set).
        """
        with observe.in_conversation(sender_id):
            async with self._conversation(sender_id):
                model = self.model  # a hot reload during the turn takes effect on the next one
                tracker = await self.get_tracker(sender_id)
                known = len(tracker.events)
                requested_slot = tracker.requested_slot
                context = ActionContext(tracker, model.domain, NaturalLanguageGenerator(model.domain), self.runner,
                                        self.handoff, channel, metadata or {})
                await run(context, model)
                new_events = tracker.events[known:]
                await self.store.append(sender_id, redact_turn(new_events, self.sensitive_slots, requested_slot))
                return [_channel_message(e, sender_id) for e in new_events if isinstance(e, BotUttered)]

    async def _hand_off(self, context: ActionContext, model: BotModel, reason: str) -> None:
        """Run ``action_handoff`` for ``reason``, which the summary and the metrics name; the turn is then over.

        A form the bot was filling ends here: a person takes over.
        """
        logger.info("escalation triggered", extra={"sender_id": context.tracker.sender_id, "reason": reason})
        if context.tracker.active_loop_name:
            await self._run_action(context, "action_deactivate_loop", "escalation", 1.0)
        context.tracker.update(SlotSet(name=HANDOFF_REASON_SLOT, value=reason))
        if await self._run_action(context, "action_handoff", "escalation", 1.0):
            await self._predict_and_run(context, model.ensemble)

    async def _start_session_if_needed(self, context: ActionContext) -> None:
        tracker = context.tracker
        expiry_minutes = context.domain.session_config.session_expiration_time
        started = any(isinstance(e, SessionStarted) for e in tracker.events)
        last_user = next((e for e in reversed(tracker.events) if isinstance(e, UserUttered)), None)
        expired = bool(expiry_minutes and last_user and time.time() - last_user.timestamp > expiry_minutes * 60)
        if not started or expired or isinstance(tracker.events[-1] if tracker.events else None, Restarted):
            await self._run_action(context, "action_session_start", None, None)

    async def _extract_slots(self, context: ActionContext) -> None:
        for event in extract_slots(context.tracker, context.domain):
            context.tracker.update(event)
        for name in custom_mapping_actions(context.domain):
            try:
                for event in await run_custom_action(context, name, context.tracker):
                    context.tracker.update(event)
            except ActionRejected:
                logger.warning("slot mapping action rejected", extra={"action": name})

    async def _predict_and_run(self, context: ActionContext, ensemble: PolicyEnsemble) -> None:
        tracker = context.tracker
        for _ in range(self.max_predictions):
            if tracker.followup_action:
                name, policy, confidence = tracker.followup_action, "followup", 1.0
            else:
                prediction = ensemble.predict(tracker)
                name, policy, confidence = prediction.action, prediction.policy, prediction.confidence
            if name == ACTION_LISTEN:
                tracker.update(ActionExecuted(name=ACTION_LISTEN, policy=policy, confidence=confidence))
                return
            keep_going = await self._run_action(context, name, policy, confidence)
            if not keep_going:
                return
        logger.warning("prediction limit reached", extra={"sender_id": tracker.sender_id})
        tracker.update(ActionExecuted(name=ACTION_LISTEN, policy="limit"))

    async def _run_action(self, context: ActionContext, name: str, policy: str | None,
                          confidence: float | None) -> bool:
        """Run one action and log it; False when the turn is over (paused or restarted)."""
        tracker = context.tracker
        try:
            action = action_for_name(name, context.domain)
            events = await action.run(context)
        except UnknownActionError:
            logger.error("policy predicted an unknown action", extra={"action": name})
            events = []
        except Exception:  # one broken action must not end the call
            logger.exception("action crashed", extra={"action": name})
            events = []
        if any(isinstance(e, ActionExecutionRejected) for e in events):
            for event in events:
                tracker.update(event)
            return True
        tracker.update(ActionExecuted(name=name, policy=policy, confidence=confidence))
        for event in events:
            tracker.update(event)
        logger.info("action executed", extra={"sender_id": tracker.sender_id, "action": name, "policy": policy})
        if name == CORE_FALLBACK:
            observe.count("fallback", kind="core")
        if tracker.paused or any(isinstance(e, Restarted) for e in events) or _forgot_user_turn(events):
            # The turn is over (an agent has the call, the caller must rephrase, or the conversation starts
            # afresh): listen.
            tracker.update(ActionExecuted(name=ACTION_LISTEN, policy=policy))
            return False
        return True


def _forgot_user_turn(events: list[Event]) -> bool:
    """A fallback that rewinds the caller's message (and does not replace it) is waiting for a new one."""
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, UserUtteranceReverted):
            return True
    return False


def _channel_message(event: BotUttered, recipient_id: str) -> dict[str, Any]:
    """A BotUttered as Rasa's REST channel returns it."""
    message: dict[str, Any] = {"recipient_id": recipient_id}
    if event.text is not None:
        message["text"] = event.text
    for key in ("buttons", "image", "custom", "attachment", "response"):
        if event.data.get(key) is not None:
            message[key] = event.data[key]
    return message
