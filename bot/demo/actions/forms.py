"""Form validation for the demo: order numbers the CRM knows, and verifying the caller.

Each form gives the caller a fixed number of tries; then it ends, and the
domain's rules take over (an offer of an agent, or a handoff).

Secrets: PIN and date-of-birth slots are cleared by the same validation that
checks them, and neither is ever logged or repeated back to the caller. Every
failed check also counts against the customer across calls and channels
(``bot.security.lockout``), which locks the account out of phone verification
after too many.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import date
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from bot import crm
from bot.crm import DirectoryError, normalize_phone
from bot.demo.actions import (
    ACCOUNT_ORDER_NUMBER, CALLER_PHONE, CUSTOMER_FIRST_NAME, CUSTOMER_ID, DATE_OF_BIRTH, DATE_OF_BIRTH_MATCHED,
    HANDOFF_REASON, MAX_ORDER_LOOKUP_FAILURES, MAX_VERIFICATION_FAILURES, ORDER_LOOKUP_FAILURES, ORDER_NUMBER,
    ORDER_NUMBER_LENGTH, PIN, PIN_LENGTH, VERIFICATION_FAILURES, VERIFICATION_LOCKED, VERIFIED, _digits, crm_outage,
    hand_off,
)
from bot.demo.actions.order_speech import order_not_found
from bot.security import lockout

logger = logging.getLogger(__name__)


def _parse_date(value: Any) -> Optional[date]:
    """A day from a ``time`` entity value ("1985-03-14T00:00:00.000"); None for ranges or junk."""
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


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
