"""Custom actions for the Northwind Supply demo line (rasa-sdk, in-process or action server).

Everything said from here is written for the ear: identifiers are read digit by
digit, dates as "Friday, May third", money in words. Fixed wording lives in the
domain's responses; only sentences that carry CRM data are built here.

Secrets: PIN and date-of-birth slots are cleared by the same validation that
checks them, and neither is ever logged or repeated back to the caller. Every
failed check also counts against the customer across calls and channels
(``bot.security.lockout``), which locks the account out of phone verification
after too many.
"""
from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from datetime import date
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from bot import crm
from bot.security import lockout
from bot.spoken import ordinal_words, speak_digits, speak_money
from bot.crm import DirectoryError, Order, OrderStatus, normalize_phone

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

# --- Saying dates and orders -------------------------------------------------


def speak_date(day: date, today: date) -> str:
    """Relative words close to today, a weekday within the past week, else "Friday, May third"."""
    delta = (day - today).days
    relative = {-1: "yesterday", 0: "today", 1: "tomorrow"}
    if delta in relative:
        return relative[delta]
    if -7 < delta < 0:
        return day.strftime("%A")
    text = f"{day:%A}, {day:%B} {ordinal_words(day.day)}"
    return text if day.year == today.year else f"{text}, {day.year}"


def on_day(day: date, today: date) -> str:
    """Adverbial form: "yesterday", "on Monday", "on Friday, May third"."""
    spoken = speak_date(day, today)
    return spoken if spoken in ("yesterday", "today", "tomorrow") else f"on {spoken}"


def _arrival(day: date, today: date) -> str:
    if day >= today:
        return f"should arrive {speak_date(day, today)}"
    return f"was due {on_day(day, today)}, so it's running late. I'm sorry about that"


def describe_order(order: Order, today: date) -> str:
    """One spoken sentence with the order's status, carrier and delivery day."""
    number = speak_digits(order.order_number)
    carrier = f" with {order.carrier}" if order.carrier else ""
    if order.status is OrderStatus.OUT_FOR_DELIVERY:
        return f"Your order {number} is out for delivery{carrier} today, and should arrive by the end of the day."
    if order.status is OrderStatus.DELIVERED:
        when = f" {on_day(order.delivery_date, today)}" if order.delivery_date else ""
        return f"Your order {number} was delivered{when}."
    if order.status is OrderStatus.SHIPPED:
        shipped = f" {on_day(order.shipped_on, today)}" if order.shipped_on else ""
        opening = f"Your order {number} shipped{carrier}{shipped}"
    else:
        opening = f"Your order {number} hasn't shipped yet"
    if order.delivery_date is None:
        return f"{opening}."
    return f"{opening}, and {_arrival(order.delivery_date, today)}."


def order_not_found(number: str) -> str:
    return f"Sorry, I couldn't find an order with the number {speak_digits(number)}."


# --- Shared helpers -----------------------------------------------------------

def _digits(value: Any) -> str:
    """The digits of a slot value; the engine's ``digits`` entity already turned speech into digits."""
    return re.sub(r"\D", "", str(value or ""))


def _parse_date(value: Any) -> Optional[date]:
    """A day from a ``time`` entity value ("1985-03-14T00:00:00.000"); None for ranges or junk."""
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def hand_off(dispatcher: CollectingDispatcher, reason: Text, response: Text) -> List[EventType]:
    """Say why, then transfer the caller through the engine's built-in ``action_handoff``."""
    dispatcher.utter_message(response=response)
    logger.info("handing caller to an agent", extra={"handoff_reason": reason})
    return [SlotSet(HANDOFF_REASON, reason), FollowupAction(ACTION_HANDOFF)]


def crm_outage(dispatcher: CollectingDispatcher, error: DirectoryError) -> List[EventType]:
    """Callers can't wait out an outage on the phone: apologise and pass them to a person."""
    logger.warning("CRM unavailable: %s", error)
    return hand_off(dispatcher, "system_unavailable", "utter_system_trouble")


# --- Form validation ----------------------------------------------------------

class LimitedAttemptsValidation(FormValidationAction, ABC):
    """A form that gives the caller a fixed number of tries, then ``give_up()``.

    Failures are counted in ``failure_slot``. Returning no required slots makes
    rasa-sdk set ``requested_slot`` to None, which is how a validator ends its
    form early in Rasa; rules on the form's end state (and any FollowupAction in
    ``give_up``) take over from there. A CRM outage ends the form the same way,
    with a handoff.
    """

    failure_slot: Text
    max_failures: int

    @abstractmethod
    def name(self) -> Text:
        """The ``validate_<form>`` action name."""

    @abstractmethod
    def give_up(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Events to run once the caller has used all their tries."""

    def failures(self, tracker: Tracker) -> int:
        return int(tracker.get_slot(self.failure_slot) or 0)

    def failed(self, tracker: Tracker) -> Dict[Text, Any]:
        """Slot update recording one more failed try."""
        count = self.failures(tracker) + 1
        logger.info("form attempt failed", extra={"form": self.form_name(), "failures": count})
        return {self.failure_slot: float(count)}

    def attempts_exhausted(self, tracker: Tracker) -> bool:
        return self.failures(tracker) >= self.max_failures

    def is_finished(self, tracker: Tracker) -> bool:
        """Whether the form should stop asking; subclasses add their own success condition."""
        return self.attempts_exhausted(tracker)

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        return [] if self.is_finished(tracker) else domain_slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        try:
            events = await super().run(dispatcher, tracker, domain)
        except DirectoryError as error:
            return [SlotSet(REQUESTED_SLOT, None), *crm_outage(dispatcher, error)]
        # super().run() applied the validated slots to ``tracker``.
        if self.attempts_exhausted(tracker):
            events.extend(self.give_up(dispatcher, tracker))
        return events


class ValidateOrderStatusForm(LimitedAttemptsValidation):
    """Accepts only order numbers the CRM knows; after two misses the form ends without one."""

    failure_slot = ORDER_LOOKUP_FAILURES
    max_failures = MAX_ORDER_LOOKUP_FAILURES

    def name(self) -> Text:
        return "validate_order_status_form"

    async def validate_order_number(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        number = _digits(slot_value)
        if len(number) != ORDER_NUMBER_LENGTH:
            dispatcher.utter_message(response="utter_order_number_format")
            return {ORDER_NUMBER: None, **self.failed(tracker)}
        if await crm.current().get_order(number) is None:
            dispatcher.utter_message(text=order_not_found(number))
            return {ORDER_NUMBER: None, **self.failed(tracker)}
        return {ORDER_NUMBER: number, ORDER_LOOKUP_FAILURES: 0.0}

    def give_up(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        # The form ends with no order number, and a rule offers an agent; the
        # reason is kept for that offer. The count resets so a later lookup in
        # the same call gets fresh tries.
        return [SlotSet(ORDER_LOOKUP_FAILURES, 0.0), SlotSet(HANDOFF_REASON, "order_not_found")]


class ValidateVerificationForm(LimitedAttemptsValidation):
    """Identifies the caller (caller ID or a spoken number), then checks a PIN, or a date of birth and an order.

    The form lists ``caller_phone``, ``pin``, ``date_of_birth`` and ``account_order_number``. The bot
    asks for the phone (unless caller ID found the account), then the PIN. A date of birth said at
    the PIN prompt is the other way in, but never on its own: the bot then asks for the number of an
    order on the account and says only whether the two together match, so a date cannot be
    confirmed by itself. Success sets ``verified``.

    Each failed check costs one of three tries in the call (then a handoff with reason
    ``failed_verification``, and the form stays closed for the rest of the call) and counts against
    the customer in ``bot.security.lockout``: past its limit, ``verification_locked`` is set, the
    caller hears why and is handed off with that reason, in this call and any other until it expires.
    """

    failure_slot = VERIFICATION_FAILURES
    max_failures = MAX_VERIFICATION_FAILURES

    def name(self) -> Text:
        return "validate_verification_form"

    def attempts_exhausted(self, tracker: Tracker) -> bool:
        return bool(tracker.get_slot(VERIFICATION_LOCKED)) or super().attempts_exhausted(tracker)

    def is_finished(self, tracker: Tracker) -> bool:
        return bool(tracker.get_slot(VERIFIED)) or super().is_finished(tracker)

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if self.is_finished(tracker):
            return []
        if tracker.get_slot(DATE_OF_BIRTH_MATCHED) is not None:
            return [CALLER_PHONE, ACCOUNT_ORDER_NUMBER]  # the second half of a date-of-birth answer
        return domain_slots  # the PIN is asked (a date of birth is its other answer, the order number comes after)

    async def extract_caller_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Caller ID pre-fills the phone as the form starts (no slot requested yet)."""
        if tracker.get_slot(CALLER_PHONE) is not None or tracker.get_slot(REQUESTED_SLOT) is not None:
            return {}
        caller_id = (tracker.latest_message.get("metadata") or {}).get("caller_number")
        return {CALLER_PHONE: caller_id} if caller_id else {}

    async def validate_caller_phone(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        phone = normalize_phone(str(slot_value))
        customer = await crm.current().find_customer_by_phone(phone) if phone else None
        if customer is not None:
            found = {CALLER_PHONE: phone, CUSTOMER_ID: customer.customer_id, CUSTOMER_FIRST_NAME: customer.first_name}
            locked = await lockout.current().lockout(customer.customer_id) is not None
            if locked or tracker.get_slot(VERIFICATION_LOCKED):
                found[VERIFICATION_LOCKED] = locked
            return found
        if tracker.get_slot(REQUESTED_SLOT) != CALLER_PHONE:
            return {CALLER_PHONE: None}  # unknown caller ID: simply ask for the account's number
        dispatcher.utter_message(response="utter_phone_not_found")
        return {CALLER_PHONE: None, **self.failed(tracker)}

    async def validate_pin(self, slot_value: Any, dispatcher: CollectingDispatcher,
                           tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        pin = _digits(slot_value)
        if len(pin) != PIN_LENGTH:
            # Mis-heard digits never reached the CRM, so they don't cost a try.
            dispatcher.utter_message(response="utter_pin_format")
            return {PIN: None}
        return await self._check(tracker, dispatcher, {PIN: None}, "utter_pin_mismatch",
                                 lambda customer_id: crm.current().verify_pin(customer_id, pin))

    async def validate_date_of_birth(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """Checked now, told only with the order number: the caller learns nothing from a date alone."""
        if PIN in tracker.slots_to_validate():
            return {DATE_OF_BIRTH: None}  # a PIN was heard too: that is this turn's one try
        born = _parse_date(slot_value)
        if born is None:
            dispatcher.utter_message(response="utter_dob_format")
            return {DATE_OF_BIRTH: None}
        customer_id = tracker.get_slot(CUSTOMER_ID)
        if not customer_id:
            return {DATE_OF_BIRTH: None}
        if await lockout.current().lockout(customer_id) is not None:
            return {DATE_OF_BIRTH: None, VERIFICATION_LOCKED: True}
        matched = await crm.current().verify_date_of_birth(customer_id, born)
        return {DATE_OF_BIRTH: None, DATE_OF_BIRTH_MATCHED: matched}

    async def validate_account_order_number(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                            tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        number = _digits(slot_value)
        if len(number) != ORDER_NUMBER_LENGTH:
            dispatcher.utter_message(response="utter_order_number_format")
            return {ACCOUNT_ORDER_NUMBER: None}
        born_matched = bool(tracker.get_slot(DATE_OF_BIRTH_MATCHED))

        async def matches(customer_id: Text) -> bool:
            order = await crm.current().get_order(number)
            return born_matched and order is not None and order.customer_id == customer_id

        return await self._check(tracker, dispatcher, {ACCOUNT_ORDER_NUMBER: None, DATE_OF_BIRTH_MATCHED: None},
                                 "utter_verification_details_mismatch", matches)

    async def _check(self, tracker: Tracker, dispatcher: CollectingDispatcher, cleared: Dict[Text, Any],
                     mismatch_response: Text, matches: Callable[[Text], Awaitable[bool]]) -> Dict[Text, Any]:
        """One check of the caller's secrets: counted, and the answers' slots cleared whatever the outcome."""
        customer_id = tracker.get_slot(CUSTOMER_ID)
        if not customer_id:
            return cleared  # nobody identified yet: the form asks for the phone number first
        guard = lockout.current()
        if await guard.lockout(customer_id) is not None:
            return {**cleared, VERIFICATION_LOCKED: True}
        if not await matches(customer_id):
            dispatcher.utter_message(response=mismatch_response)
            locked = await guard.failed(customer_id, tracker.sender_id) is not None
            return {**cleared, **self.failed(tracker), **({VERIFICATION_LOCKED: True} if locked else {})}
        await guard.passed(customer_id)
        logger.info("caller verified", extra={"customer_id": customer_id, "method": next(iter(cleared))})
        dispatcher.utter_message(text=f"Thank you, {tracker.get_slot(CUSTOMER_FIRST_NAME)}. You're verified.")
        return {**cleared, VERIFIED: True, VERIFICATION_FAILURES: 0.0}

    def give_up(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        if tracker.get_slot(VERIFICATION_LOCKED):
            return hand_off(dispatcher, "verification_locked", "utter_verification_locked")
        return hand_off(dispatcher, "failed_verification", "utter_verification_failed")


# --- Actions ------------------------------------------------------------------

class ActionOrderStatus(Action):
    """Reads out the order in ``order_number``, then forgets it so the next lookup asks afresh."""

    def __init__(self, today: Callable[[], date] = date.today) -> None:
        self._today = today

    def name(self) -> Text:
        return "action_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        number = _digits(tracker.get_slot(ORDER_NUMBER))
        if not number:
            # Only reachable as a side question inside another form.
            dispatcher.utter_message(response="utter_order_later")
            return []
        try:
            order = await crm.current().get_order(number)
        except DirectoryError as error:
            return crm_outage(dispatcher, error)
        dispatcher.utter_message(text=describe_order(order, self._today()) if order else order_not_found(number))
        return [SlotSet(ORDER_NUMBER, None)]


class ActionAccountBalance(Action):
    """Reads every account balance of a verified caller."""

    def name(self) -> Text:
        return "action_account_balance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        customer_id = tracker.get_slot(CUSTOMER_ID)
        if not tracker.get_slot(VERIFIED) or not customer_id:
            # Rules verify callers first; this keeps the data safe even if a policy slips.
            dispatcher.utter_message(response="utter_verify_first")
            return []
        try:
            accounts = await crm.current().list_accounts(customer_id)
        except DirectoryError as error:
            return crm_outage(dispatcher, error)
        if not accounts:
            dispatcher.utter_message(response="utter_no_accounts")
        else:
            dispatcher.utter_message(text=" ".join(
                f"Your {account.kind} balance is {speak_money(account.balance_cents)}." for account in accounts))
        return []


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
