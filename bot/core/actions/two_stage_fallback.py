"""Rasa's two-stage fallback as a loop: confirm the best guess, else ask to rephrase, else give up.

Stage 1 asks "did you mean ...?"; an affirmation replays the original message
with the guessed intent. A denial asks for a rephrase; a rephrase that is
understood is replayed instead; a second failure runs the default fallback.
"""
from __future__ import annotations

from bot.core.actions import ActionContext, bot_event
from bot.core.actions.builtin import ActionDefaultFallback
from bot.core.events import ActionExecuted, ActiveLoop, Event, UserUttered, UserUtteranceReverted
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker

NAME = "action_two_stage_fallback"
FALLBACK_INTENT = "nlu_fallback"


def _user_messages_since_loop_start(tracker: DialogueStateTracker) -> list[UserUttered]:
    """The message that triggered the loop followed by the caller's answers to it."""
    messages: list[UserUttered] = []
    loop_started = False
    for event in reversed(tracker.events):
        if isinstance(event, ActiveLoop) and event.name == NAME:
            loop_started = True
        elif isinstance(event, UserUttered):
            messages.insert(0, event)
            if loop_started:
                break
    return messages


def _best_guess(message: UserUttered) -> str | None:
    ranking = message.parse_data.get("intent_ranking") or []
    return next((r["name"] for r in ranking if r.get("name") != FALLBACK_INTENT), None)


def _replay(original: UserUttered, intent: str, rewinds: int) -> list[Event]:
    """Forget the fallback turns and act as if the caller had said ``original`` with ``intent``."""
    parse_data = {**original.parse_data, "intent": {"name": intent, "confidence": 1.0}}
    return [ActiveLoop(name=None), *[UserUtteranceReverted() for _ in range(rewinds)],
            ActionExecuted(name=ACTION_LISTEN),
            UserUttered(text=original.text, parse_data=parse_data, input_channel=original.input_channel,
                        metadata=original.metadata)]


class TwoStageFallbackAction:
    name = NAME

    async def run(self, context: ActionContext) -> list[Event]:
        tracker = context.tracker
        if tracker.active_loop_name != NAME:
            return [ActiveLoop(name=NAME), *self._ask_affirmation(context, tracker.latest_message)]
        messages = _user_messages_since_loop_start(tracker)
        latest = messages[-1]
        intent = latest.intent_name
        if len(messages) == 2 and intent == "affirm":
            guess = _best_guess(messages[0])
            return _replay(messages[0], guess, rewinds=2) if guess else await self._give_up(context)
        if len(messages) == 2 and intent == "deny":
            return context.utter("utter_ask_rephrase")
        if len(messages) >= 3 and intent not in (FALLBACK_INTENT, None):
            return _replay(latest, intent, rewinds=len(messages))
        return await self._give_up(context)

    @staticmethod
    def _ask_affirmation(context: ActionContext, message: UserUttered | None) -> list[Event]:
        guess = _best_guess(message) if message else None
        if "utter_ask_affirmation" in context.domain.responses:
            return context.utter("utter_ask_affirmation", intent=guess or "")
        text = f"Did you mean {guess.replace('_', ' ')}?" if guess else "Did I get that right?"
        return [bot_event({"text": text, "buttons": [{"title": "Yes", "payload": f"/{guess}"},
                                                      {"title": "No", "payload": f"/{FALLBACK_INTENT}"}]})]

    @staticmethod
    async def _give_up(context: ActionContext) -> list[Event]:
        # Deactivate after the rewind, or the rewind would undo the deactivation too.
        return [*await ActionDefaultFallback().run(context), ActiveLoop(name=None)]
