"""Custom actions over Rasa's real action-server protocol.

rasa-sdk's own action server (the one Rasa deployments run) serves the demo's
actions in a separate process; Helpline calls it over HTTP with the same JSON
Rasa posts to ``action_endpoint``, and the conversation behaves as in process.
"""
import pytest

from bot.core.actions.custom import ActionFailed, HttpActionRunner
from bot.core.handoff_port import RecordingHandoffPort
from bot.core.processor import MessageProcessor, UserMessage
from bot.core.tracker_store import InMemoryTrackerStore
from bot.model_archive import load
from tests.action_server import rasa_sdk_server
from tests.conftest import ROOT
from tests.scale_support import free_port


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    yield from rasa_sdk_server("bot.demo.actions", ROOT, {"HELPLINE_DATA_DIR": str(tmp_path_factory.mktemp("crm"))})


async def test_demo_actions_run_on_the_rasa_sdk_action_server(action_server, demo_archive):
    processor = MessageProcessor(load(demo_archive), InMemoryTrackerStore(), HttpActionRunner(action_server),
                                 RecordingHandoffPort())

    async def say(text):
        replies = await processor.handle_message(UserMessage(text, "remote", metadata={"caller_number": "+15551230001"}))
        return " ".join(r.get("text", "") for r in replies).lower()

    assert "ups" in await say("where is order four seven two nine one eight")
    assert "pin" in await say("what's my balance")  # the form's validate action ran remotely (caller ID lookup)
    assert "balance is" in await say("2468")


async def test_unreachable_action_server_is_a_clear_error():
    runner = HttpActionRunner(f"http://127.0.0.1:{free_port()}/webhook", timeout_seconds=2)
    state = {"sender_id": "x", "events": [], "slots": {}, "latest_message": {}, "paused": False,
             "followup_action": None, "active_loop": {}, "latest_action_name": None}
    with pytest.raises(ActionFailed, match="action server at .* failed for 'action_order_status'"):
        await runner.run("action_order_status", state, {})
