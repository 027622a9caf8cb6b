"""Keeping a call on track: repeating, asking again when not understood, offering an agent.

None of these reads the CRM; they steer the conversation, and hand the caller
to a person when the bot keeps missing what they say or they ask for one.
"""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.demo.actions import HANDOFF_REASON, MAX_CONSECUTIVE_FALLBACKS, hand_off


class ActionRepeat(Action):
    """Says the last bot message again, then rewinds the "repeat" turn.

    Reverting the user turn (as Rasa's default fallback does) leaves the dialogue
    exactly where it was, so a pending question or an active form carries on.
    """

    def name(self) -> Text:
        return "action_repeat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        last_said = next((event["text"] for event in reversed(tracker.events)
                          if event.get("event") == "bot" and event.get("text")), None)
        if last_said:
            dispatcher.utter_message(text=last_said)
        else:
            dispatcher.utter_message(response="utter_help")
        return [UserUtteranceReverted()]


class ActionFallback(Action):
    """Asks the caller to rephrase; after three misunderstandings in a row, hands off."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        if _consecutive_fallbacks(tracker) >= MAX_CONSECUTIVE_FALLBACKS:
            return hand_off(dispatcher, "not_understood", "utter_cannot_understand")
        dispatcher.utter_message(response="utter_ask_rephrase")
        return [UserUtteranceReverted()]


def _consecutive_fallbacks(tracker: Tracker) -> int:
    """Trailing user turns classified nlu_fallback (reverted turns still count)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionOfferAgent(Action):
    """Offers a transfer and remembers why, for the agent's screen.

    The reason is whatever the bot already recorded (e.g. ``order_not_found``),
    else the caller's intent (e.g. ``complaint``).
    """

    def name(self) -> Text:
        return "action_offer_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = tracker.get_slot(HANDOFF_REASON) or intent or "caller_request"
        dispatcher.utter_message(response="utter_offer_agent")
        return [SlotSet(HANDOFF_REASON, reason)]


class ActionAgentDeclined(Action):
    """The caller said no to a transfer: acknowledge and drop the pending reason."""

    def name(self) -> Text:
        return "action_agent_declined"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_agent_declined")
        return [SlotSet(HANDOFF_REASON, None)]
