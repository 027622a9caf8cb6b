"""The dialogue state of one conversation, derived from its events.

Mirrors Rasa's ``DialogueStateTracker``: events are the source of truth; slots,
the active loop, the latest message and action are what replaying them gives.
``applied_events`` collapses restarts, rewinds and the happy path of loops
exactly as Rasa does, so policies see the same history Rasa's would.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Iterator

from bot.core.events import (
    ActionExecuted, ActionExecutionRejected, ActionReverted, ActiveLoop, AllSlotsReset, BotUttered,
    ConversationPaused, ConversationResumed, EntitiesAdded, Event, FollowupAction, LoopInterrupted, Restarted,
    SessionStarted, SlotSet, UserUttered, UserUtteranceReverted,
)
from bot.training_data.domain import Domain, REQUESTED_SLOT

ACTION_LISTEN = "action_listen"


class DialogueStateTracker:
    """Events of one conversation plus the state they imply."""

    def __init__(self, sender_id: str, domain: Domain, events: list[Event] | None = None):
        self.sender_id = sender_id
        self.domain = domain
        self.events: list[Event] = []
        self._reset()
        for event in events or []:
            self.update(event)

    # --- state -----------------------------------------------------------------
    def _reset(self) -> None:
        self.slots: dict[str, Any] = {name: copy.deepcopy(s.initial_value) for name, s in self.domain.slots.items()}
        self._reset_turn_state()
        self.paused = False

    def _reset_turn_state(self) -> None:
        self.active_loop: dict[str, Any] = {}
        self.latest_message: UserUttered | None = None
        self.latest_bot_utterance: BotUttered | None = None
        self.latest_action_name: str | None = None
        self.followup_action: str | None = None

    def update(self, event: Event) -> None:
        """Append an event and apply it to the state."""
        self.events.append(event)
        if isinstance(event, (UserUtteranceReverted, ActionReverted)):
            self._replay(self.applied_events())
        else:
            self._apply(event)

    def _replay(self, events: list[Event]) -> None:
        self._reset()
        for event in events:
            self._apply(event)

    def _apply(self, event: Event) -> None:
        if isinstance(event, UserUttered):
            self.latest_message = event
        elif isinstance(event, BotUttered):
            self.latest_bot_utterance = event
        elif isinstance(event, ActionExecuted):
            self.latest_action_name = event.name
            if self.followup_action == event.name:
                self.followup_action = None
            if self.active_loop and self.active_loop.get("name") == event.name:
                self.active_loop.update(rejected=False, interrupted=False)
        elif isinstance(event, SlotSet):
            if event.name in self.slots:
                self.slots[event.name] = event.value
        elif isinstance(event, ActiveLoop):
            self.active_loop = {} if event.name is None else {
                "name": event.name, "validate": True, "rejected": False, "interrupted": False,
                "trigger_message": self.latest_message.parse_data if self.latest_message else {},
            }
        elif isinstance(event, LoopInterrupted):
            if self.active_loop:
                self.active_loop["interrupted"] = event.is_interrupted
        elif isinstance(event, ActionExecutionRejected):
            if self.active_loop.get("name") == event.name:
                self.active_loop["rejected"] = True
        elif isinstance(event, FollowupAction):
            self.followup_action = event.name
        elif isinstance(event, AllSlotsReset):
            self.slots = {name: copy.deepcopy(s.initial_value) for name, s in self.domain.slots.items()}
        elif isinstance(event, (Restarted, SessionStarted)):
            paused = self.paused
            self._reset()
            self.paused = paused if isinstance(event, SessionStarted) else False
        elif isinstance(event, ConversationPaused):
            self.paused = True
        elif isinstance(event, ConversationResumed):
            self.paused = False
        elif isinstance(event, EntitiesAdded) and self.latest_message is not None:
            self.latest_message.parse_data.setdefault("entities", []).extend(event.entities)

    # --- views -------------------------------------------------------------------
    @property
    def active_loop_name(self) -> str | None:
        return self.active_loop.get("name")

    @property
    def requested_slot(self) -> str | None:
        return self.slots.get(REQUESTED_SLOT)

    def copy(self) -> "DialogueStateTracker":
        return DialogueStateTracker(self.sender_id, self.domain, list(self.events))

    def events_after_latest_restart(self) -> list[Event]:
        for index in range(len(self.events) - 1, -1, -1):
            if isinstance(self.events[index], Restarted):
                return self.events[index + 1:]
        return list(self.events)

    def latest_event_time(self) -> float:
        return self.events[-1].timestamp if self.events else time.time()

    def get_latest_entity_values(self, entity: str, role: str | None = None, group: str | None = None) -> list:
        """Values of an entity in the latest message; role/group must match exactly, as in Rasa."""
        if self.latest_message is None:
            return []
        return [e.get("value") for e in self.latest_message.entities
                if e.get("entity") == entity and e.get("role") == role and e.get("group") == group]

    def applied_events(self) -> list[Event]:
        """Events that still count: after the last restart/session start, minus rewinds and loop repeats."""
        loop_names = set(self.domain.forms)
        applied: list[Event] = []
        for event in self.events:
            if isinstance(event, (Restarted, SessionStarted)):
                applied = []
            elif isinstance(event, ActionReverted):
                _undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                _undo_till_previous(UserUttered, applied)
                _undo_till_previous(ActionExecuted, applied)
            elif (isinstance(event, ActionExecuted) and event.name in loop_names
                  and not _first_loop_execution_or_unhappy_path(event.name, applied)):
                _undo_till_previous_loop_execution(event.name, applied)
                applied.append(event)
            else:
                applied.append(event)
        return applied

    def prior_states_iter(self) -> Iterator[tuple["DialogueStateTracker", ActionExecuted | None]]:
        """The tracker just before each applied action, then the current one (Rasa's prior trackers)."""
        replay = DialogueStateTracker(self.sender_id, self.domain)
        for event in self.applied_events():
            if isinstance(event, ActionExecuted):
                yield replay, event
            replay._apply(event)
        yield replay, None

    def current_state(self) -> dict:
        """The tracker in Rasa's JSON shape (``GET /conversations/{id}/tracker``)."""
        latest = self.latest_message
        return {
            "sender_id": self.sender_id,
            "slots": self.slots,
            "latest_message": _message_dict(latest),
            "latest_event_time": self.latest_event_time(),
            "followup_action": self.followup_action,
            "paused": self.paused,
            "events": [e.to_dict() for e in self.events],
            "latest_input_channel": latest.input_channel if latest else None,
            "active_loop": {k: v for k, v in self.active_loop.items() if k != "trigger_message"},
            "latest_action": {"action_name": self.latest_action_name} if self.latest_action_name else {},
            "latest_action_name": self.latest_action_name,
        }


def _message_dict(message: UserUttered | None) -> dict:
    if message is None:
        return {}
    return {**message.parse_data, "text": message.text, "message_id": message.message_id,
            "metadata": message.metadata}


def _undo_till_previous(event_type: type, applied: list[Event]) -> None:
    """Remove events from the end up to and including the last one of ``event_type``."""
    while applied:
        if isinstance(applied.pop(), event_type):
            return


def _undo_till_previous_loop_execution(loop_name: str, applied: list[Event]) -> None:
    """Drop the actions and user turns since the loop last ran, keeping slots and other events."""
    offset = 0
    for event in reversed(applied[:]):
        if isinstance(event, ActionExecuted) and event.name == loop_name:
            break
        if isinstance(event, (ActionExecuted, UserUttered)):
            del applied[-1 - offset]
        else:
            offset += 1


def _first_loop_execution_or_unhappy_path(loop_name: str, applied: list[Event]) -> bool:
    next_action: str | None = None
    for event in reversed(applied):
        if isinstance(event, ActiveLoop) and event.name is None:
            return True
        if isinstance(event, ActionExecutionRejected) and event.name == loop_name:
            return True
        if isinstance(event, UserUttered) and next_action is not None and next_action != loop_name:
            return True
        if isinstance(event, ActionExecuted):
            if event.name == loop_name:
                return False
            next_action = event.name
    return True
