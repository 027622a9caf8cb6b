"""``helpline test --run-actions``: run each expected action for real while replaying test stories.

Predicting the right action name is not enough: a response the domain lacks,
an ``utter_`` name sent to an action server, or a custom action with no code
leaves the caller in silence while every prediction matches. Here each
expected response, retrieval response, form and custom action runs on a copy
of the test conversation, through the same registry and action runners as the
server (in-process packages, then the action server of ``endpoints.yml``).
"""
from __future__ import annotations

import asyncio

from bot.core.actions import ActionContext
from bot.core.actions.builtin import ResponseAction, RetrievalResponseAction
from bot.core.actions.custom import ActionFailed, ActionResult, ActionRunner
from bot.core.actions.registry import UnknownActionError, action_for_name
from bot.core.events import BotUttered
from bot.core.handoff_port import RecordingHandoffPort
from bot.core.nlg import NaturalLanguageGenerator
from bot.core.tracker import DialogueStateTracker
from bot.training_data.domain import DEFAULT_ACTIONS, Domain


class _RecordingRunner:
    """Passes calls on to the real runner and remembers the failures that the actions swallow."""

    def __init__(self, runner: ActionRunner):
        self.runner = runner
        self.failures: list[str] = []

    def knows(self, name: str) -> bool:
        return self.runner.knows(name)

    async def run(self, name: str, tracker_state: dict, domain: dict) -> ActionResult:
        try:
            return await self.runner.run(name, tracker_state, domain)
        except ActionFailed as error:
            self.failures.append(str(error))
            raise


class ActionChecker:
    """Runs actions on copies of a test conversation and says what went wrong, if anything."""

    def __init__(self, domain: Domain, runner: ActionRunner):
        self.domain = domain
        self.runner = runner
        self._loop = asyncio.new_event_loop()

    def close(self) -> None:
        self._loop.close()

    def check(self, name: str, tracker: DialogueStateTracker) -> str | None:
        """None if ``name`` ran as it should here; else what happened (``said nothing``, the failure)."""
        if name in DEFAULT_ACTIONS and name not in self.domain.custom_actions:
            return None  # Helpline's own code; nothing a bot can leave out
        try:
            action = action_for_name(name, self.domain)
        except UnknownActionError as error:
            return str(error)
        runner = _RecordingRunner(self.runner)
        context = ActionContext(tracker.copy(), self.domain, NaturalLanguageGenerator(self.domain, seed=0), runner,
                                RecordingHandoffPort(), "rest")
        try:
            events = self._loop.run_until_complete(action.run(context))
        except Exception as error:  # the test reports a crashing action instead of stopping
            return f"{name} crashed: {type(error).__name__}: {error}"
        if runner.failures:
            return "; ".join(runner.failures)
        speaks = isinstance(action, (ResponseAction, RetrievalResponseAction))
        if speaks and not any(isinstance(e, BotUttered) for e in events):
            return f"{name} said nothing (no response for it in the domain)"
        return None
