"""Conversation ids the server makes for phone calls, in a namespace no client may use.

A phone call's conversation (its tracker, recording and queue entry) is named by the gateway,
``call-`` and 32 random hex digits, never by the carrier or the client. The REST channel lets its
clients name their conversations, so it refuses names in this namespace: a client that learned a
live call's id still cannot post into that caller's conversation.
"""
from __future__ import annotations

import uuid

CALL_ID_PREFIX = "call-"


def new_call_id() -> str:
    return f"{CALL_ID_PREFIX}{uuid.uuid4().hex}"


def is_call_id(conversation_id: str) -> bool:
    """Whether the id lies in the namespace of server-made call ids."""
    return conversation_id.startswith(CALL_ID_PREFIX)
