"""The editor's one-step examples over the API: checked, appended, trained, tested, swapped in live or taken back."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.core.events import ActionExecuted, UserUttered
from bot.model_registry import ModelRegistry
from bot.model_training import train_version
from bot.training_data.project import load_project
from helpline.app import build_app
from helpline.editor.examples import EDITOR_FILE
from helpline.editor.turns import FALLBACK_ACTIONS, learnable_turns_of
from tests.auth_support import use_api_token
from tests.test_model_versions import write_small_bot


@pytest.fixture(scope="module")
def trained_bot(tmp_path_factory):
    root = tmp_path_factory.mktemp("bot")
    write_small_bot(root)
    entry, _ = train_version(load_project(root), root / "models")
    ModelRegistry(root / "models").set_active(entry.version, "test")
    return root


@pytest.fixture
async def client(trained_bot, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    headers = use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(trained_bot)), headers=headers) as test_client:
        yield test_client


async def finished(client, job: str, timeout: float = 600) -> dict:
    for _ in range(int(timeout * 2)):
        state = await (await client.get(f"/editor/api/jobs/{job}")).json()
        if state["state"] in ("live", "refused"):
            return state
        await asyncio.sleep(0.5)
    raise AssertionError(f"job {job} still {state}")


async def parse(client, text: str) -> str:
    return (await (await client.post("/model/parse", json={"text": text})).json())["intent"]["name"]


@pytest.mark.parametrize("body, problem", [
    ({"text": "hello", "intent": "greet"}, "already an example of intent 'greet'"),
    ({"text": "  Good   Morning ", "intent": "goodbye"}, "already an example of intent 'greet'"),
    ({"text": "hi there", "intent": "nlu_fallback"}, "not an intent of this bot"),
    ({"text": "hi there", "intent": "order_pizza"}, "not an intent of this bot"),
    ({"text": "hi [there](name)", "intent": "greet"}, "plain words"),
    ({"text": "/greet", "intent": "greet"}, "plain words"),
    ({"text": "   ", "intent": "greet"}, "1 to 300 characters"),
    ({"text": "x" * 301, "intent": "greet"}, "1 to 300 characters"),
    ({"text": 5, "intent": "greet"}, "send"),
])
async def test_examples_are_checked_before_anything_is_written(client, trained_bot, body, problem):
    response = await client.post("/editor/api/examples", json=body)
    assert response.status == 400 and problem in (await response.json())["message"]
    assert not (trained_bot / "data" / EDITOR_FILE).exists()


async def test_a_change_that_breaks_a_test_story_is_refused_and_taken_back(client, trained_bot):
    serving = (await (await client.get("/status")).json())["fingerprint"]
    response = await client.post("/editor/api/examples", json={"text": "see you in a bit", "intent": "greet"})
    assert response.status == 202
    job = await finished(client, (await response.json())["job"])
    assert job["state"] == "refused"
    assert "breaks test stories the serving model passes: leaving" in job["result"]["errors"][0]
    assert "expected intent goodbye" in job["result"]["errors"][1]
    assert not (trained_bot / "data" / EDITOR_FILE).exists(), "the example was taken back"
    assert (await (await client.get("/status")).json())["fingerprint"] == serving
    assert await parse(client, "see you in a bit") == "goodbye"
    refused = ModelRegistry(trained_bot / "models").get(job["result"]["version"])
    assert refused.refused and refused.results["change"]["text"] == "see you in a bit"


async def test_a_good_example_goes_live_without_a_restart(client, trained_bot):
    text = "howdy partner"
    response = await client.post("/editor/api/examples", json={"text": text, "intent": "greet"})
    job = await finished(client, (await response.json())["job"])
    assert job["state"] == "live", job
    assert job["result"]["tests"]["passed"] == job["result"]["tests"]["total"] == 2
    assert await parse(client, text) == "greet"
    written = (trained_bot / "data" / EDITOR_FILE).read_text()
    assert written.endswith(f'- intent: "greet"\n  examples: |\n    - {text}\n')
    assert load_project(trained_bot).data.nlu.examples[-1].text == text
    listing = await (await client.get("/models")).json()
    assert listing["active"] == job["result"]["version"] == listing["serving"]
    assert listing["versions"][0]["results"]["change"] == {"kind": "example", "text": text, "intent": "greet",
                                                           "by": "api-token", "file": EDITOR_FILE}


def test_fallbacks_and_unsure_turns_are_learnable_masked_ones_are_not():
    def turn(text, intent, confidence, then):
        return [UserUttered(text=text, parse_data={"intent": {"name": intent, "confidence": confidence},
                                                   "intent_ranking": [{"name": "greet", "confidence": 0.4}]}),
                ActionExecuted(name=then)]

    events = [*turn("purple elephants", "nlu_fallback", 0.3, "action_fallback"),
              *turn("hmm maybe", "greet", 0.41, "utter_greet"),
              *turn("hello", "greet", 0.97, "utter_greet"),
              *turn("[redacted]", "nlu_fallback", 0.3, "action_fallback"),
              *turn("/inform{\"digits\": \"1\"}", "inform", 1.0, "action_default_fallback"),
              *turn("what now", "goodbye", 0.9, "action_default_fallback")]
    found = learnable_turns_of("c1", events, 0.55, FALLBACK_ACTIONS | {"action_fallback"})
    assert [(t.text, t.reason) for t in found] == [("purple elephants", "fallback"), ("hmm maybe", "low confidence"),
                                                   ("what now", "fallback")]
    assert found[0].suggestions == [{"name": "greet", "confidence": 0.4}]
