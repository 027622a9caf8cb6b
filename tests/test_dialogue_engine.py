"""The dialogue engine without NLU: Rasa bots' test stories with gold intents, forms, fallbacks, sessions.

Messages use Rasa's intent triggers (``/intent{...}``), which bypass NLU, so
these tests exercise policies, forms and custom actions (real rasa-sdk, in
process) in isolation.
"""
import asyncio
import sys
import textwrap

import pytest

from bot.core.actions.custom import InProcessActionRunner
from bot.core.events import ActionExecuted, SlotSet, UserUttered, UserUtteranceReverted
from bot.core.handoff_port import RecordingHandoffPort
from bot.core.policies.ensemble import PolicyEnsemble
from bot.core.processor import BotModel, MessageProcessor, UserMessage
from bot.core.tracker import DialogueStateTracker
from bot.core.tracker_store import InMemoryTrackerStore
from bot.demo import actions as demo_actions
from bot.demo.actions import lookups as demo_lookups
from bot.nlu.extractors.synonyms import EntitySynonymMapper
from bot.nlu.interpreter import NLUInterpreter
from bot.testing.story_test import StoryTester, load_test_stories
from bot.training_data.project import load_project
from tests.needs import rasa_bot



@pytest.mark.parametrize("bot", ["moodbot-initial-project", "financial-demo", "helpdesk-assistant"])
def test_rasa_bots_dialogue_follows_their_test_stories(bot):
    project = load_project(rasa_bot(bot))
    ensemble = PolicyEnsemble.from_config(project.config)
    ensemble.train(project.data.stories, project.data.rules, project.domain)
    report = StoryTester(project.domain, ensemble).run(load_test_stories(project.test_story_files()))
    failed = [r.describe() for r in report.results if not r.passed]
    assert not failed, failed


FORM_PROJECT = {
    "config.yml": """
        language: en
        pipeline: []
        policies:
        - name: MemoizationPolicy
        - name: RulePolicy
        helpline:
          domain: domain.yml
          data: [data]
    """,
    "domain.yml": """
        version: "3.1"
        intents: [greet, order_status, inform, help, affirm, deny, talk_to_agent]
        entities: [order_number]
        slots:
          order_number:
            type: text
            influence_conversation: false
            mappings:
            - type: from_entity
              entity: order_number
              conditions:
              - active_loop: order_form
                requested_slot: order_number
        responses:
          utter_greet:
          - text: "Hello {name}, how can I help?"
            condition:
            - type: slot
              name: vip
              value: true
          - text: "Hello, how can I help?"
          utter_ask_order_number:
          - text: "What is your order number?"
          utter_help:
          - text: "I can check orders."
          utter_default:
          - text: "Sorry, say again?"
        forms:
          order_form:
            required_slots: [order_number]
        actions:
        - action_order_status
        - validate_order_form
    """,
    "data/rules.yml": """
        version: "3.1"
        rules:
        - rule: greet
          steps:
          - intent: greet
          - action: utter_greet
        - rule: start form
          steps:
          - intent: order_status
          - action: order_form
          - active_loop: order_form
        - rule: submit form
          condition:
          - active_loop: order_form
          steps:
          - action: order_form
          - active_loop: null
          - slot_was_set:
            - requested_slot: null
          - action: action_order_status
        - rule: help inside the form
          condition:
          - active_loop: order_form
          steps:
          - intent: help
          - action: utter_help
          - action: order_form
          - active_loop: order_form
        - rule: agent
          steps:
          - intent: talk_to_agent
          - action: action_handoff
        - rule: fallback
          steps:
          - intent: nlu_fallback
          - action: utter_default
    """,
    "data/nlu.yml": """
        version: "3.1"
        nlu:
        - intent: greet
          examples: |
            - hi
    """,
    "form_test_actions.py": """
        from rasa_sdk import Action, FormValidationAction
        from rasa_sdk.events import SlotSet

        class ValidateOrderForm(FormValidationAction):
            def name(self):
                return "validate_order_form"

            def validate_order_number(self, value, dispatcher, tracker, domain):
                if str(value).isdigit() and len(str(value)) == 6:
                    return {"order_number": value}
                dispatcher.utter_message(text="That doesn't look like an order number.")
                return {"order_number": None}

        class ActionOrderStatus(Action):
            def name(self):
                return "action_order_status"

            def run(self, dispatcher, tracker, domain):
                dispatcher.utter_message(text=f"Order {tracker.get_slot('order_number')} has shipped.")
                return [SlotSet("order_number", None)]
    """,
}


@pytest.fixture
def form_bot(tmp_path):
    for name, text in FORM_PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    sys.path.insert(0, str(tmp_path))
    project = load_project(tmp_path)
    ensemble = PolicyEnsemble.from_config(project.config)
    ensemble.train(project.data.stories, project.data.rules, project.domain)
    interpreter = NLUInterpreter(None, None, None, None, EntitySynonymMapper(), None, 0.1)
    handoff = RecordingHandoffPort()
    processor = MessageProcessor(BotModel(project.domain, interpreter, ensemble), InMemoryTrackerStore(),
                                 InProcessActionRunner(["form_test_actions"]), handoff)
    yield processor, handoff
    sys.path.remove(str(tmp_path))
    sys.modules.pop("form_test_actions", None)


async def say(processor, text, sender="caller"):
    return [m.get("text") for m in await processor.handle_message(UserMessage(text, sender))]


async def test_form_asks_validates_rejects_and_submits(form_bot):
    processor, _ = form_bot
    assert await say(processor, "/greet") == ["Hello, how can I help?"]
    assert await say(processor, "/order_status") == ["What is your order number?"]
    # invalid value: the custom validation (real rasa-sdk FormValidationAction) rejects it and the form re-asks
    assert await say(processor, '/inform{"order_number": "12"}') == [
        "That doesn't look like an order number.", "What is your order number?"]
    # a question in the middle of the form: the form rejects, the rule answers, the form asks again
    assert await say(processor, "/help") == ["I can check orders.", "What is your order number?"]
    assert await say(processor, '/inform{"order_number": "472918"}') == ["Order 472918 has shipped."]
    tracker = await processor.get_tracker("caller")
    assert tracker.active_loop_name is None and tracker.slots["order_number"] is None
    assert tracker.latest_action_name == "action_listen"


def test_a_bot_runs_only_its_own_packages_actions(form_bot):
    # form_test_actions (loaded by form_bot) defines its own action_order_status; rasa-sdk's
    # register_package would register that one for the demo too, as both are alive in this process.
    # The demo's actions were imported (at the top of this file) before those.
    demo = InProcessActionRunner([demo_actions.__name__]).executor.actions
    assert demo["action_order_status"].__self__.__module__ == demo_lookups.__name__
    processor, _ = form_bot
    assert not processor.runner.knows("action_account_balance")


async def test_handoff_pauses_the_conversation_and_keeps_the_request(form_bot):
    processor, handoff = form_bot
    await say(processor, "/order_status")
    replies = await say(processor, "/talk_to_agent")
    assert replies == ["Let me connect you with a member of our team."]
    assert handoff.requests[0].reason == "caller_request"
    assert handoff.requests[0].tracker["active_loop"]["name"] == "order_form"
    tracker = await processor.get_tracker("caller")
    assert tracker.paused
    assert await say(processor, "/greet") == []  # the agent has the call now


async def test_unknown_text_falls_back_and_is_reverted(form_bot):
    processor, _ = form_bot
    assert await say(processor, "/nlu_fallback") == ["Sorry, say again?"]
    tracker = await processor.get_tracker("caller")
    assert tracker.latest_message.intent_name == "nlu_fallback"


async def test_sessions_start_once_and_separate_callers(form_bot):
    processor, _ = form_bot
    await say(processor, "/greet", "a")
    await say(processor, "/greet", "a")
    await say(processor, "/order_status", "b")
    tracker_a = await processor.get_tracker("a")
    assert [e.name for e in tracker_a.events if isinstance(e, ActionExecuted)].count("action_session_start") == 1
    assert (await processor.get_tracker("b")).active_loop_name == "order_form"
    assert tracker_a.active_loop_name is None


def test_applied_events_rewind_and_loop_collapse(form_bot):
    processor, _ = form_bot
    domain = processor.model.domain
    tracker = DialogueStateTracker("t", domain, [
        ActionExecuted(name="action_listen"), UserUttered(text="x", parse_data={"intent": {"name": "greet"}}),
        ActionExecuted(name="utter_greet"), ActionExecuted(name="action_listen"),
        UserUttered(text="y", parse_data={"intent": {"name": "deny"}}), UserUtteranceReverted(),
    ])
    assert [type(e).__name__ for e in tracker.applied_events()] == ["ActionExecuted", "UserUttered", "ActionExecuted"]
    assert tracker.latest_message.text == "x"
    form_run = [ActionExecuted(name="order_form"), SlotSet(name="requested_slot", value="order_number"),
                ActionExecuted(name="action_listen"),
                UserUttered(text="1", parse_data={"intent": {"name": "inform"}}), ActionExecuted(name="order_form")]
    tracker = DialogueStateTracker("t", domain, form_run)
    names = [e.name for e in tracker.applied_events() if isinstance(e, ActionExecuted)]
    # the user turns inside a loop's happy path are invisible to the policies, as in Rasa
    assert names == ["order_form", "order_form"]
    assert not any(isinstance(e, UserUttered) for e in tracker.applied_events())


async def test_turns_of_one_conversation_are_serialized(form_bot):
    processor, _ = form_bot
    await asyncio.gather(*(say(processor, "/greet", "same") for _ in range(5)))
    names = [type(e).__name__ for e in (await processor.get_tracker("same")).events]
    assert names.count("UserUttered") == 5 and names.count("SessionStarted") == 1
    assert not len(processor.lock_store._local)  # no lock is kept for a conversation nobody is talking in
