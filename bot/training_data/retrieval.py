"""Rasa's retrieval intents: ``faq/payment_methods`` examples answered by ``utter_faq/payment_methods``.

A retrieval intent groups many question kinds (sub-intents) under one intent
name. Rules and stories only ever see the group (``intent: faq``, ``action:
utter_faq``); the NLU picks the sub-intent and ``utter_faq`` says the response
written for it. These helpers keep the naming conventions in one place.
"""
from __future__ import annotations

DELIMITER = "/"
RESPONSE_PREFIX = "utter_"


def base_intent(name: str) -> str:
    """``faq/payment_methods`` -> ``faq``; ordinary intents are returned unchanged."""
    return name.split(DELIMITER, 1)[0]


def is_full_retrieval_intent(name: str | None) -> bool:
    return bool(name) and DELIMITER in name


def response_for(full_intent: str) -> str:
    """``faq/payment_methods`` -> ``utter_faq/payment_methods``."""
    return f"{RESPONSE_PREFIX}{full_intent}"


def retrieval_action(response_name: str) -> str | None:
    """``utter_faq/payment_methods`` -> ``utter_faq``; None for an ordinary response."""
    if not response_name.startswith(RESPONSE_PREFIX) or DELIMITER not in response_name:
        return None
    return response_name.split(DELIMITER, 1)[0]


def action_base(action_name: str) -> str:
    """A story may name the full response (``utter_faq/ask_name``); the dialogue runs ``utter_faq``."""
    return retrieval_action(action_name) or action_name
