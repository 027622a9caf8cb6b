"""Custom actions over Rasa's action-server protocol, in process or over HTTP.

Both runners send exactly the JSON Rasa posts to ``action_endpoint``
(``next_action``, ``sender_id``, ``tracker``, ``domain``, ``version``) and read
back ``events`` and ``responses``; in process, rasa-sdk's own executor runs the
same ``Action`` classes without the HTTP hop.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp

from bot.core.events import Event, EventFormatError, events_from_dicts

logger = logging.getLogger(__name__)
PROTOCOL_VERSION = "3.6.0"


class ActionRejected(Exception):
    """The action refused to run (rasa-sdk's ActionExecutionRejection); other policies get a turn."""


class ActionFailed(Exception):
    """The action could not be run at all (unknown, crashed, server unreachable)."""


@dataclass
class ActionResult:
    events: list[Event] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)


def action_call(name: str, tracker_state: dict, domain: dict) -> dict:
    return {"next_action": name, "sender_id": tracker_state["sender_id"], "tracker": tracker_state,
            "domain": domain, "version": PROTOCOL_VERSION}


def parse_action_response(name: str, body: object) -> ActionResult:
    if not isinstance(body, dict):
        raise ActionFailed(f"action '{name}' answered with {type(body).__name__}, expected a JSON object")
    try:
        events = events_from_dicts(body.get("events") or [])
    except EventFormatError as error:
        raise ActionFailed(f"action '{name}' returned a bad event: {error}") from None
    responses = body.get("responses") or []
    if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
        raise ActionFailed(f"action '{name}' returned malformed responses")
    return ActionResult(events, responses)


class ActionRunner(Protocol):
    def knows(self, name: str) -> bool: ...

    async def run(self, name: str, tracker_state: dict, domain: dict) -> ActionResult: ...


class InProcessActionRunner:
    """Runs rasa-sdk actions from Python packages inside the bot's process.

    ``project`` is where the bot lives: its own action packages are imported from there, as
    ``rasa run actions`` imports them from the project folder.
    """

    def __init__(self, packages: list[str], project: Path | None = None):
        from rasa_sdk.executor import ActionExecutor

        if packages and project is not None and str(project.resolve()) not in sys.path:
            sys.path.append(str(project.resolve()))
        self.executor = ActionExecutor()
        for action in _package_actions(packages):
            self.executor.register_action(action)

    def knows(self, name: str) -> bool:
        return name in self.executor.actions

    async def run(self, name: str, tracker_state: dict, domain: dict) -> ActionResult:
        from rasa_sdk.interfaces import ActionExecutionRejection

        try:
            result = await self.executor.run(action_call(name, tracker_state, domain))
        except ActionExecutionRejection as rejection:
            raise ActionRejected(str(rejection.message)) from None
        except Exception as error:  # an action's own bug must not take the conversation down
            logger.exception("custom action failed", extra={"action": name})
            raise ActionFailed(f"action '{name}' raised {type(error).__name__}") from None
        return parse_action_response(name, result.model_dump() if hasattr(result, "model_dump") else dict(result))


def _package_actions(packages: list[str]) -> list[type]:
    """The concrete ``Action`` classes defined in ``packages`` (and their submodules).

    rasa-sdk's ``register_package`` registers every ``Action`` subclass alive in the process,
    so another bot's or a test's action with the same name could silently replace this bot's.
    """
    import inspect

    from rasa_sdk import Action
    from rasa_sdk.utils import all_subclasses

    for package in packages:
        _import_tree(importlib.import_module(package))
    return [action for action in all_subclasses(Action) if not inspect.isabstract(action) and any(
        action.__module__ == package or action.__module__.startswith(package + ".") for package in packages)]


def _import_tree(module) -> None:
    """Import a package's submodules by their full names (as rasa-sdk does, and unlike walk_packages)."""
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), prefix=module.__name__ + "."):
        _import_tree(importlib.import_module(info.name))


class HttpActionRunner:
    """Calls a Rasa action server (``action_endpoint`` in endpoints.yml)."""

    def __init__(self, url: str, timeout_seconds: float = 10.0):
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def knows(self, name: str) -> bool:
        return True  # the server decides; unknown actions come back as errors

    async def run(self, name: str, tracker_state: dict, domain: dict) -> ActionResult:
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(self.url, json=action_call(name, tracker_state, domain)) as response:
                    body = await response.json(content_type=None)
                    if response.status == 400 and isinstance(body, dict) and body.get("action_name"):
                        raise ActionRejected(str(body.get("error")))
                    if response.status >= 400:
                        raise ActionFailed(f"action server answered {response.status} for '{name}': {body}")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise ActionFailed(f"action server at {self.url} failed for '{name}': {error}") from None
        return parse_action_response(name, body)


class ChainedActionRunner:
    """In-process actions first, then the action server (if one is configured)."""

    def __init__(self, runners: list[ActionRunner]):
        self.runners = runners

    def knows(self, name: str) -> bool:
        return any(r.knows(name) for r in self.runners)

    async def run(self, name: str, tracker_state: dict, domain: dict) -> ActionResult:
        for runner in self.runners:
            if runner.knows(name):
                return await runner.run(name, tracker_state, domain)
        raise ActionFailed(f"no code for custom action '{name}' (not in the action packages and no action_endpoint)")
