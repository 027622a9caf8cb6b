"""Forms as Rasa 3 active loops: ask for each required slot, validate, deactivate when done.

Slot values come from ``action_extract_slots`` (run after every user message);
the form validates them with ``validate_<form>`` when the domain has that
custom action, and rejects the turn when the slot it asked for was not given,
so rules and stories can handle the interruption (an "unhappy path").
"""
from __future__ import annotations

from bot.core.actions import ActionContext
from bot.core.actions.builtin import run_custom_action
from bot.core.actions.custom import ActionRejected
from bot.core.actions.slot_extraction import extract_slots
from bot.core.events import ActionExecutionRejected, ActiveLoop, Event, SlotSet, UserUttered
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.training_data.domain import REQUESTED_SLOT


def _slots_set_since_user_message(tracker: DialogueStateTracker) -> dict:
    found: dict = {}
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, SlotSet) and event.name not in found:
            found[event.name] = event.value
    return found


def _validator_finished(validation: list[Event]) -> bool:
    """A validator ends the form early by setting ``requested_slot`` to None or deactivating the loop."""
    last_request = next((e for e in reversed(validation) if isinstance(e, SlotSet) and e.name == REQUESTED_SLOT), None)
    last_loop = next((e for e in reversed(validation) if isinstance(e, ActiveLoop)), None)
    return (last_request is not None and last_request.value is None) or (last_loop is not None and last_loop.name is None)


class FormAction:
    def __init__(self, name: str):
        self.name = name

    async def run(self, context: ActionContext) -> list[Event]:
        form = context.domain.forms[self.name]
        original = context.tracker
        tracker = original.copy()
        events: list[Event] = []

        def apply(new: list[Event]) -> None:
            events.extend(new)
            for event in new:
                tracker.update(event)

        activating = original.active_loop_name != self.name
        if activating:
            apply([ActiveLoop(name=self.name), SlotSet(name=REQUESTED_SLOT, value=None)])
            apply(extract_slots(tracker, context.domain, activating_form=self.name))
            candidates = {s: tracker.slots[s] for s in form.required_slots if tracker.slots.get(s) is not None}
            requested = None
        elif original.latest_action_name == ACTION_LISTEN and not original.active_loop.get("interrupted"):
            candidates = {k: v for k, v in _slots_set_since_user_message(original).items()
                          if k in form.required_slots}
            requested = original.requested_slot
        else:
            # Back from an unhappy path: nothing to validate, but the validator still decides what to ask next.
            candidates, requested = {}, None

        validation = await self._validate(context, original, activating, candidates)
        if validation is None:
            return [ActionExecutionRejected(name=self.name)]
        filled = any(isinstance(e, SlotSet) and e.name != REQUESTED_SLOT for e in validation)
        if requested and not filled:
            return [ActionExecutionRejected(name=self.name)]  # the slot asked for was not given
        apply(validation)
        if _validator_finished(validation) or not tracker.active_loop_name:
            return events + [SlotSet(name=REQUESTED_SLOT, value=None), ActiveLoop(name=None)]
        return events + await self._request_next_slot(context, tracker, form.required_slots, validation)

    async def _validate(self, context: ActionContext, original: DialogueStateTracker, activating: bool,
                        candidates: dict) -> list[Event] | None:
        """Run ``validate_<form>`` on the slot candidates (Rasa calls it on every run); None if it rejected."""
        validator = f"validate_{self.name}"
        if validator not in context.domain.custom_actions:
            return [SlotSet(name=name, value=value) for name, value in candidates.items()]
        probe = original.copy()
        if activating:
            probe.update(SlotSet(name=REQUESTED_SLOT, value=None))
            probe.update(ActiveLoop(name=self.name))
        for name, value in candidates.items():  # rasa-sdk validates exactly the trailing SlotSet events
            probe.update(SlotSet(name=name, value=value))
        try:
            return await run_custom_action(context, validator, probe)
        except ActionRejected:
            return None

    async def _request_next_slot(self, context: ActionContext, tracker: DialogueStateTracker,
                                 required: list[str], validation: list[Event]) -> list[Event]:
        chosen = next((e.value for e in reversed(validation) if isinstance(e, SlotSet) and e.name == REQUESTED_SLOT),
                      None)
        if chosen is None:
            chosen = next((s for s in required if tracker.slots.get(s) is None), None)
        if chosen is None:
            return [SlotSet(name=REQUESTED_SLOT, value=None), ActiveLoop(name=None)]
        tracker.update(SlotSet(name=REQUESTED_SLOT, value=chosen))
        return [SlotSet(name=REQUESTED_SLOT, value=chosen), *await self._ask(context, tracker, chosen)]

    async def _ask(self, context: ActionContext, tracker: DialogueStateTracker, slot: str) -> list[Event]:
        for action in (f"action_ask_{self.name}_{slot}", f"action_ask_{slot}"):
            if action in context.domain.custom_actions:
                try:
                    return await run_custom_action(context, action, tracker)
                except ActionRejected:
                    return []
        for response in (f"utter_ask_{self.name}_{slot}", f"utter_ask_{slot}"):
            if response in context.domain.responses:
                return context.utter(response, tracker)
        return []
