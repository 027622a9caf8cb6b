"""Everything the bot can do in a turn is an action that returns events.

Responses, Rasa's default actions, forms and custom actions (rasa-sdk, in
process or over HTTP) share one small interface; ``registry.action_for_name``
picks the right one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.events import BotUttered, Event
from bot.core.nlg import NaturalLanguageGenerator
from bot.core.tracker import DialogueStateTracker
from bot.training_data.domain import Domain

if TYPE_CHECKING:
    from bot.core.actions.custom import ActionRunner
    from bot.core.handoff_port import HandoffPort


@dataclass
class ActionContext:
    """What an action may use: the conversation, the domain and the wired-in services."""

    tracker: DialogueStateTracker
    domain: Domain
    nlg: NaturalLanguageGenerator
    runner: "ActionRunner"
    handoff: "HandoffPort"
    channel: str | None = None
    metadata: dict = field(default_factory=dict)  # of the message being handled

    def utter(self, response: str, tracker: DialogueStateTracker | None = None, **kwargs: Any) -> list[Event]:
        """BotUttered for a domain response (nothing if the response does not exist)."""
        slots = (tracker or self.tracker).slots
        message = self.nlg.generate(response, slots, self.channel, **kwargs)
        return [bot_event(message)] if message else []


def bot_event(message: dict) -> BotUttered:
    """A channel message dict as a BotUttered event (Rasa keeps extras under ``data``)."""
    data = {k: v for k, v in message.items() if k not in ("text", "metadata")}
    return BotUttered(text=message.get("text"), data=data, metadata=message.get("metadata") or {})


class Action(Protocol):
    name: str

    async def run(self, context: ActionContext) -> list[Event]: ...
