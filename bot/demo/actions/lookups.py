"""What a caller asks the CRM for: an order's status, and a verified caller's balances.

Each action reads the CRM once and says the answer; an outage hands the caller
to an agent instead of leaving them waiting on the line.
"""
from __future__ import annotations

from datetime import date
from typing import Callable, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import crm
from bot.crm import DirectoryError
from bot.demo.actions import CUSTOMER_ID, ORDER_NUMBER, VERIFIED, _digits, crm_outage
from bot.demo.actions.order_speech import describe_order, order_not_found
from bot.spoken import speak_money


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
