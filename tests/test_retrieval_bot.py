"""A Rasa 3.x bot with retrieval intents (FAQs, chitchat) and utter_ names under `actions:`, served for real.

The bot in tests/bots/faq_bot was written for these tests; it is trained once for the module.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.core.actions.custom import ChainedActionRunner, HttpActionRunner, InProcessActionRunner
from bot.model_archive import load, train
from bot.testing.action_check import ActionChecker
from bot.testing.story_test import StoryTester, load_test_stories
from bot.training_data.project import load_project
from bot.validation import validate_project
from helpline.app import build_app
from tests.action_server import rasa_sdk_server
from tests.auth_support import use_api_token
from tests.conftest import ROOT

FAQ_BOT = ROOT / "tests" / "bots" / "faq_bot"
ANSWERS = {
    "which credit cards do you take": "We accept Visa, Mastercard, PayPal and bank transfer.",
    "how many days until my parcel gets here": "Orders arrive within three to five working days.",
    "can I send my shoes back": "You can return anything within thirty days for a full refund.",
    "what time do you open": "Our phone line is open from eight in the morning to six in the evening, Monday to Friday.",
    "what's your name": "I'm Robin, the shop's virtual assistant.",
    "how are you today": "I'm doing well, thanks for asking!",
}


@pytest.fixture(scope="module")
def faq_archive(tmp_path_factory) -> Path:
    return train(load_project(FAQ_BOT), tmp_path_factory.mktemp("faq-models"))


@pytest.fixture
def faq_client(faq_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path))
    headers = use_api_token(monkeypatch)  # /model/parse needs an editor (or the API token)

    async def start():
        client = TestClient(TestServer(build_app(FAQ_BOT, faq_archive)), headers=headers)
        await client.start_server()
        return client

    return start


async def test_faq_and_chitchat_are_answered_over_the_rest_channel(faq_client):
    client = await faq_client()
    try:
        greeting = await client.post("/webhooks/rest/webhook", json={"sender": "caller", "message": "hello"})
        # utter_greet is listed under `actions:` and there is no action server: it is still a response
        assert [m.get("text") for m in await greeting.json()] == [
            "Hello! Ask me about payments, delivery, returns or our opening hours."]
        for question, answer in ANSWERS.items():
            reply = await client.post("/webhooks/rest/webhook", json={"sender": "caller", "message": question})
            assert [m.get("text") for m in await reply.json()] == [answer], question
    finally:
        await client.close()


async def test_parse_result_carries_the_retrieval_intent_and_chosen_response(faq_client):
    client = await faq_client()
    try:
        parsed = await (await client.post("/model/parse", json={"text": "can I pay with paypal"})).json()
    finally:
        await client.close()
    assert parsed["intent"]["name"] == "faq"
    assert parsed["intent"]["full_retrieval_intent_name"] == "faq/payment_methods"
    assert {i["name"] for i in parsed["intent_ranking"]} >= {"faq", "chitchat", "greet"}
    assert not any("/" in i["name"] for i in parsed["intent_ranking"])
    selector = parsed["response_selector"]
    assert selector["all_retrieval_intents"] == ["chitchat", "faq"]
    response = selector["faq"]["response"]
    assert response["intent_response_key"] == "faq/payment_methods"
    assert response["utter_action"] == "utter_faq/payment_methods"
    assert response["responses"] == [{"text": ANSWERS["which credit cards do you take"]}]
    assert selector["faq"]["ranking"][0]["intent_response_key"] == "faq/payment_methods"
    assert abs(sum(r["confidence"] for r in selector["faq"]["ranking"]) - 1.0) < 1e-3


def test_the_faq_bot_validates_without_findings():
    report = validate_project(load_project(FAQ_BOT))
    assert report.errors == [] and report.warnings == [], str(report)


def _tester(archive: Path, packages: list[str], action_server: str | None = None) -> StoryTester:
    model = load(archive)
    project = load_project(FAQ_BOT)
    runners = [InProcessActionRunner(packages, FAQ_BOT), *([HttpActionRunner(action_server)] if action_server else [])]
    checker = ActionChecker(model.domain, ChainedActionRunner(runners))
    return StoryTester(model.domain, model.ensemble, model.interpreter, project.data.nlu.entity_names, checker)


@pytest.fixture(scope="module")
def faq_action_server():
    """rasa-sdk's own action server with the bot's actions, started from the bot's folder as Rasa users do."""
    yield from rasa_sdk_server("faq_bot_actions", FAQ_BOT, startup_s=120)


def test_custom_actions_run_on_the_action_server_when_testing(faq_archive, faq_action_server):
    tester = _tester(faq_archive, [], faq_action_server)
    report = tester.run(load_test_stories(load_project(FAQ_BOT).test_story_files()))
    tester.actions.close()
    assert report.passed == len(report.results) == 3, [r.describe() for r in report.results]


def test_test_stories_pass_with_actions_run_for_real(faq_archive):
    tester = _tester(faq_archive, ["faq_bot_actions"])
    report = tester.run(load_test_stories(load_project(FAQ_BOT).test_story_files()))
    tester.actions.close()
    assert report.passed == len(report.results) == 3, [r.describe() for r in report.results]


def test_a_custom_action_without_code_fails_its_test_when_actions_run(faq_archive):
    tester = _tester(faq_archive, [])
    report = tester.run(load_test_stories(load_project(FAQ_BOT).test_story_files()))
    tester.actions.close()
    failed = {r.story.name: r for r in report.results if not r.passed}
    assert set(failed) == {"keypad order status"}
    [mismatch] = failed["keypad order status"].mismatches
    assert mismatch.kind == "run" and "no code for custom action 'action_order_status'" in mismatch.predicted


def test_keypad_triggers_in_test_stories_are_parsed_like_the_server(faq_archive):
    model = load(faq_archive)
    tester = StoryTester(model.domain, model.ensemble, model.interpreter, {"order_number"})
    result = tester.test_story(load_test_stories(load_project(FAQ_BOT).test_story_files())[2])
    assert result.passed, result.describe()
    assert ("order_status", "order_status") in result.intents


def test_helpline_test_writes_rasa_result_files_with_every_mismatch(faq_archive, tmp_path):
    stories = tmp_path / "test_wrong.yml"
    stories.write_text("""stories:
- story: two wrong turns
  steps:
  - user: |
      hello there
    intent: goodbye
  - action: utter_greet
  - user: |
      do you accept paypal
    intent: faq/return_policy
  - action: utter_faq/return_policy
""")
    results = tmp_path / "results"
    run = subprocess.run([sys.executable, "-m", "helpline.cli", "--project", str(FAQ_BOT), "test", "--model",
                          str(faq_archive), "--stories", str(stories), "--results", str(results)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT, env=dict(os.environ))
    assert run.returncode == 1
    assert "expected intent goodbye for 'hello there', predicted intent greet" in run.stdout
    assert "expected action utter_greet, predicted action utter_goodbye" in run.stdout
    assert "expected intent faq/return_policy for 'do you accept paypal', predicted intent faq/payment_methods" \
        in run.stdout
    failed = (results / "failed_test_stories.yml").read_text()
    assert "- intent: goodbye  # predicted: greet" in failed
    assert "- action: utter_greet  # predicted: utter_goodbye" in failed
    assert "- intent: faq/return_policy  # predicted: faq/payment_methods" in failed
    report = json.loads((results / "intent_report.json").read_text())
    assert report["goodbye"]["confused_with"] == {"greet": 1} and report["goodbye"]["recall"] == 0.0
    assert {"accuracy", "macro avg", "weighted avg"} <= set(report)
    assert (results / "intent_confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
