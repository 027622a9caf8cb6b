"""Custom actions of the FAQ test bot (rasa-sdk), run in process by Helpline."""
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        number = tracker.get_slot("order_number")
        if number:
            dispatcher.utter_message(text=f"Order {number} is on its way.")
        else:
            dispatcher.utter_message(text="Which order number is it?")
        return []
