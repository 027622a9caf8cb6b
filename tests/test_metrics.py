"""``/metrics`` over the REST channel (no speech models): who may read it, and what a conversation adds.

Values are compared before and after, since the metrics are the process's.
"""
from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from helpline.app import build_app
from tests.auth_support import sign_in
from tests.conftest import ROOT


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    async with TestClient(TestServer(build_app(ROOT, demo_archive))) as test_client:
        yield test_client


async def scrape(client) -> dict:
    response = await client.get("/metrics")
    assert response.status == 200, await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await response.text()) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


async def say(client, sender: str, text: str) -> None:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status == 200


async def test_only_supervisors_and_admins_read_the_metrics(client):
    assert (await client.get("/metrics")).status == 401
    await sign_in(client, "alice")
    assert (await client.get("/metrics")).status == 403
    client.session.cookie_jar.clear()
    await sign_in(client, "erin")
    assert (await client.get("/metrics")).status == 403
    client.session.cookie_jar.clear()
    await sign_in(client, "sam")
    assert (await client.get("/metrics")).status == 200


async def test_a_conversation_counts_its_turns_stages_knowledge_and_its_escalation(client):
    await sign_in(client, "sam")
    before = await scrape(client)
    await say(client, "metrics-1", "do you ship to canada")
    await say(client, "metrics-1", "where is my order 472918")
    await say(client, "metrics-1", "agent please")
    after = await scrape(client)
    assert value(after, "helpline_turns_total", channel="rest") == value(before, "helpline_turns_total",
                                                                       channel="rest") + 3
    assert value(after, "helpline_stage_seconds_count", stage="nlu") >= value(
        before, "helpline_stage_seconds_count", stage="nlu") + 3
    assert value(after, "helpline_stage_seconds_count", stage="dialogue") > value(
        before, "helpline_stage_seconds_count", stage="dialogue")
    assert total(after, "helpline_knowledge_outcomes_total") == total(before, "helpline_knowledge_outcomes_total") + 1
    assert value(after, "helpline_escalations_total", reason="caller_request") == value(
        before, "helpline_escalations_total", reason="caller_request") + 1
    assert value(after, "helpline_queue_waiting", queue="orders") == 1  # read from this app's ACD
    assert value(after, "helpline_agents", state="offline") == 3  # the demo's agents, none signed in
    status = await (await client.get("/status")).json()
    served = [labels for (name, labels), v in after.items() if name == "helpline_model_info" and v == 1]
    assert any(dict(labels)["fingerprint"] == status["fingerprint"] for labels in served), served


async def test_ready_names_the_parts_that_are_not_ready(client):
    from bot.channels.rest import PROCESSOR_KEY

    not_ready = await (await client.get("/ready")).json()
    assert not_ready == {"status": "not ready", "not_ready": ["voice models"]}  # this app never loads them
    client.server.app[PROCESSOR_KEY].handoff.acd.store._db.close()  # the handoff store stops answering
    response = await client.get("/ready")
    assert response.status == 503
    assert (await response.json())["not_ready"] == ["voice models", "handoff store"]
