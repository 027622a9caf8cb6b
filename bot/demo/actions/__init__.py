"""Custom actions for the Northwind Supply demo line (rasa-sdk, in-process or action server).

Everything said from here is written for the ear: identifiers are read digit by
digit, dates as "Friday, May third", money in words. Fixed wording lives in the
domain's responses; only sentences that carry CRM data are built here.

config.yml and the action server name this package; rasa-sdk registers the
actions of every module in it: the form validators in ``forms``, the CRM
lookups in ``lookups`` and the steps that keep a call on track in
``conversation``. What they share lives here: the domain's slot names, the
limits on tries, and handing the caller to an agent.
"""
from __future__ import annotations

import logging
import re
from typing import Any, List, Text

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.crm import DirectoryError

logger = logging.getLogger(__name__)

# Slots, as declared in nlu_data/domain.yml.
ORDER_NUMBER = "order_number"
ORDER_LOOKUP_FAILURES = "order_lookup_failures"
CALLER_PHONE = "caller_phone"
PIN = "pin"
DATE_OF_BIRTH = "date_of_birth"
DATE_OF_BIRTH_MATCHED = "date_of_birth_matched"
ACCOUNT_ORDER_NUMBER = "account_order_number"
VERIFICATION_LOCKED = "verification_locked"
VERIFIED = "verified"
VERIFICATION_FAILURES = "verification_failures"
CUSTOMER_ID = "customer_id"
CUSTOMER_FIRST_NAME = "customer_first_name"
HANDOFF_REASON = "handoff_reason"

ACTION_HANDOFF = "action_handoff"  # built into the Helpline engine
ORDER_NUMBER_LENGTH = 6
PIN_LENGTH = 4
MAX_ORDER_LOOKUP_FAILURES = 2
MAX_VERIFICATION_FAILURES = 3
MAX_CONSECUTIVE_FALLBACKS = 3

# --- Shared helpers -----------------------------------------------------------

def _digits(value: Any) -> str:
    """The digits of a slot value; the engine's ``digits`` entity already turned speech into digits."""
    return re.sub(r"\D", "", str(value or ""))


def hand_off(dispatcher: CollectingDispatcher, reason: Text, response: Text) -> List[EventType]:
    """Say why, then transfer the caller through the engine's built-in ``action_handoff``."""
    dispatcher.utter_message(response=response)
    logger.info("handing caller to an agent", extra={"handoff_reason": reason})
    return [SlotSet(HANDOFF_REASON, reason), FollowupAction(ACTION_HANDOFF)]


def crm_outage(dispatcher: CollectingDispatcher, error: DirectoryError) -> List[EventType]:
    """Callers can't wait out an outage on the phone: apologise and pass them to a person."""
    logger.warning("CRM unavailable: %s", error)
    return hand_off(dispatcher, "system_unavailable", "utter_system_trouble")
