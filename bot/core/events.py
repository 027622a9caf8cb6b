"""Typed dialogue events with Rasa's JSON names and fields.

A conversation is nothing but the list of these events: the tracker replays
them to know the current state, stores persist them, the HTTP API and the
action server exchange them in exactly Rasa's JSON shape.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


@dataclass
class Event:
    """Base of all events; ``type_name`` is Rasa's ``event`` field."""

    type_name: ClassVar[str] = ""
    timestamp: float = field(default_factory=time.time, kw_only=True)
    metadata: dict = field(default_factory=dict, kw_only=True)

    def to_dict(self) -> dict:
        data = {"event": self.type_name, **asdict(self)}
        if not data["metadata"]:
            data.pop("metadata")
        return data


@dataclass
class UserUttered(Event):
    type_name: ClassVar[str] = "user"
    text: str | None = None
    parse_data: dict = field(default_factory=dict)
    input_channel: str | None = None
    message_id: str | None = None

    @property
    def intent_name(self) -> str | None:
        return (self.parse_data.get("intent") or {}).get("name")

    @property
    def entities(self) -> list[dict]:
        return self.parse_data.get("entities") or []


@dataclass
class BotUttered(Event):
    type_name: ClassVar[str] = "bot"
    text: str | None = None
    data: dict = field(default_factory=dict)


@dataclass
class ActionExecuted(Event):
    type_name: ClassVar[str] = "action"
    name: str | None = None
    policy: str | None = None
    confidence: float | None = None
    action_text: str | None = None
    hide_rule_turn: bool = False


@dataclass
class SlotSet(Event):
    type_name: ClassVar[str] = "slot"
    name: str = ""
    value: Any = None


@dataclass
class ActiveLoop(Event):
    type_name: ClassVar[str] = "active_loop"
    name: str | None = None


@dataclass
class LoopInterrupted(Event):
    type_name: ClassVar[str] = "loop_interrupted"
    is_interrupted: bool = True


@dataclass
class ActionExecutionRejected(Event):
    type_name: ClassVar[str] = "action_execution_rejected"
    name: str = ""
    policy: str | None = None
    confidence: float | None = None


@dataclass
class FollowupAction(Event):
    type_name: ClassVar[str] = "followup"
    name: str = ""


@dataclass
class AllSlotsReset(Event):
    type_name: ClassVar[str] = "reset_slots"


@dataclass
class Restarted(Event):
    type_name: ClassVar[str] = "restart"


@dataclass
class SessionStarted(Event):
    type_name: ClassVar[str] = "session_started"


@dataclass
class UserUtteranceReverted(Event):
    type_name: ClassVar[str] = "rewind"


@dataclass
class ActionReverted(Event):
    type_name: ClassVar[str] = "undo"


@dataclass
class ConversationPaused(Event):
    type_name: ClassVar[str] = "pause"


@dataclass
class ConversationResumed(Event):
    type_name: ClassVar[str] = "resume"


@dataclass
class EntitiesAdded(Event):
    type_name: ClassVar[str] = "entities"
    entities: list = field(default_factory=list)


@dataclass
class ReminderScheduled(Event):
    type_name: ClassVar[str] = "reminder"
    intent: str = ""
    trigger_date_time: str = ""
    entities: Any = None
    name: str | None = None
    kill_on_user_message: bool = True


@dataclass
class ReminderCancelled(Event):
    type_name: ClassVar[str] = "cancel_reminder"
    name: str | None = None
    intent: str | None = None
    entities: Any = None


@dataclass
class AgentUttered(Event):
    type_name: ClassVar[str] = "agent"
    text: str | None = None
    data: Any = None


_EVENT_TYPES: dict[str, type[Event]] = {cls.type_name: cls for cls in Event.__subclasses__()}
_ALIASES = {"form": "active_loop"}  # Rasa 2 name of the loop event


class EventFormatError(ValueError):
    """An event dict that is not a Rasa event (from an action server or an API client)."""


def event_from_dict(data: Any) -> Event:
    """Build an event from Rasa's JSON; unknown fields are ignored, a wrong type is an error."""
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise EventFormatError("not an event: needs an 'event' field naming the event type")
    name = _ALIASES.get(data["event"], data["event"])
    cls = _EVENT_TYPES.get(name)
    if cls is None:
        raise EventFormatError(f"unknown event type '{data['event']}'")
    allowed = {f.name for f in fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in allowed and v is not None}
    if kwargs.get("timestamp") is None:
        kwargs.pop("timestamp", None)
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise EventFormatError(f"malformed '{name}' event: {error}") from None


def events_from_dicts(items: Any) -> list[Event]:
    if not isinstance(items, list):
        raise EventFormatError("events must be a list")
    return [event_from_dict(item) for item in items]
