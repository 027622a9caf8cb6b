"""Two-stage fallback with the real NLU: confirm the best guess, ask to rephrase, give up politely."""
import textwrap

import pytest

from bot.core.actions.custom import InProcessActionRunner
from bot.core.handoff_port import RecordingHandoffPort
from bot.core.processor import MessageProcessor, UserMessage
from bot.core.tracker_store import InMemoryTrackerStore
from bot.model_archive import load, train
from bot.training_data.project import load_project
from tests.test_model_archive_and_reload import write_bot

pytestmark = pytest.mark.slow  # trains models or loads the speech models

FALLBACK_RULE = """
    - rule: not sure what the caller meant
      steps:
      - intent: nlu_fallback
      - action: action_two_stage_fallback
      - active_loop: action_two_stage_fallback
"""


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    root = tmp_path_factory.mktemp("bot")
    write_bot(root)
    rules = root / "data" / "rules.yml"
    rules.write_text(rules.read_text() + textwrap.dedent(FALLBACK_RULE))
    config = root / "config.yml"
    config.write_text(config.read_text().replace("threshold: 0.3", "threshold: 0.999"))
    (root / "domain.yml").write_text((root / "domain.yml").read_text().replace(
        "intents: [greet, goodbye]", "intents: [greet, goodbye, affirm, deny]"))
    model = load(train(load_project(root), root / "models"))
    return MessageProcessor(model, InMemoryTrackerStore(), InProcessActionRunner([]), RecordingHandoffPort())


async def say(processor, sender, text):
    return [m.get("text") for m in await processor.handle_message(UserMessage(text, sender))]


async def test_affirmed_guess_is_acted_on(processor):
    assert await say(processor, "a", "hello there") == ["Did you mean greet?"]
    assert await say(processor, "a", "/affirm") == ["Hello from version one."]
    tracker = await processor.get_tracker("a")
    assert tracker.active_loop_name is None and tracker.latest_message.intent_name == "greet"


async def test_denied_guess_asks_to_rephrase_then_uses_the_rephrasing(processor):
    assert await say(processor, "b", "hello there") == ["Did you mean greet?"]
    assert await say(processor, "b", "/deny") == ["Sorry, could you say that in a different way?"]
    assert await say(processor, "b", "/goodbye") == ["Bye."]


async def test_second_failure_gives_up_with_the_default_fallback(processor):
    await say(processor, "c", "hello there")
    await say(processor, "c", "/deny")
    assert await say(processor, "c", "mumble mumble") == ["Sorry, I didn't get that. Could you say it another way?"]
    assert (await processor.get_tracker("c")).active_loop_name is None
