"""Knowledge articles: validation with file and line, incremental index builds, search, and the
dialogue through the REST channel (answer, ask which, offer a person, hot reload).

Real MiniLM embeddings (ONNX), real FAISS and BM25, the real demo bot over HTTP.
"""
import shutil
import textwrap
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.knowledge.articles import load_articles
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.config import KnowledgeConfig
from bot.knowledge.decision import choose
from helpline.app import build_app
from tests.auth_support import use_api_token
from tests.conftest import ROOT
from tests.test_demo_conversations import say, tracker

ARTICLE = """\
---
id: {id}
title: {title}
questions:
  - {question}
tags: [demo]
skill: general
---
{answer}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def article(folder: Path, id: str, title: str, question: str, answer: str) -> Path:
    return write(folder, f"{id}.md", ARTICLE.format(id=id, title=title, question=question, answer=answer))


# --- validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, message", [
    ("id: x\n---\nbody\n", 1, "must start with a '---' line"),
    ("---\nid: x\ntitle: T\n", 1, "never closed"),
    ("---\nid: x\ntitle: T\nquestions: [q]\nskill: s\ncolour: red\n---\nAnswer.\n", 6, "unknown front matter field 'colour'"),
    ("---\nid: x\ntitle: T\nquestions: [q]\n---\nAnswer.\n", 1, "missing 'skill'"),
    ("---\nid: x\ntitle: T\nquestions: []\nskill: s\n---\nAnswer.\n", 4, "'questions' needs at least 1"),
    ("---\nid: Bad Id\ntitle: T\nquestions: [q]\nskill: s\n---\nAnswer.\n", 2, "must be lowercase"),
    ("---\nid: x\ntitle: T\nquestions: [q]\nskill: s\n---\n\n## Details\nagents only\n", 7, "has no answer"),
    ("---\nid: x\ntitle: T\nquestions: [q]\nskill: s\nvalid_until: soon\n---\nAnswer.\n", 6, "must be a date"),
    ("---\nid: x\ntitle: [unclosed\nquestions: [q]\nskill: s\n---\nAnswer.\n", 4, "invalid YAML"),
])
def test_bad_articles_are_reported_with_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "broken.md", text)
    report = load_articles(tmp_path).report
    assert not report.ok
    assert f"{path}:{line}: error:" in str(report.errors[0]) and message in str(report.errors[0])


def test_duplicate_ids_and_expired_articles(tmp_path):
    article(tmp_path, "a", "First", "q one", "Answer one.")
    duplicate = write(tmp_path, "b.md", ARTICLE.format(id="a", title="Second", question="q", answer="Two."))
    write(tmp_path, "old.md", "---\nid: old\ntitle: Sale\nquestions: [q]\nskill: s\nvalid_until: 2020-01-31\n"
                              "---\nThe sale is on.\n")
    result = load_articles(tmp_path)
    assert [str(e) for e in result.report.errors] == [
        f"{duplicate}:2: error: duplicate article id 'a' (also in {tmp_path / 'a.md'})"]
    assert "expired on 2020-01-31" in str(result.report.warnings[0]) and ":6:" in str(result.report.warnings[0])
    assert [a.id for a in result.articles] == ["a"]  # the expired one is never served


def test_the_shipped_articles_are_valid():
    result = load_articles(ROOT / "knowledge")
    assert result.report.ok and not result.report.warnings, str(result.report)
    assert len(result.articles) >= 40
    assert all(a.answer and a.questions for a in result.articles)


# --- index ---------------------------------------------------------------------------------------

def test_incremental_rebuild_embeds_only_changed_articles(tmp_path):
    folder = tmp_path / "knowledge"
    article(folder, "canada", "Shipping to Canada", "do you ship to canada", "Yes, to every province.")
    article(folder, "returns", "Return policy", "can i return something", "Within thirty days.")
    article(folder, "printer", "NW-4410 warranty", "nw-4410 warranty", "Two years.")
    knowledge = KnowledgeBase(folder, tmp_path / "models", KnowledgeConfig())
    stages = []
    first = knowledge.reload(lambda stage, done, total: stages.append(stage))
    assert first.ok and first.build.embedded_articles == 3 and "knowledge: embedding changed articles" in stages
    article(folder, "returns", "Return policy", "can i return something", "Within sixty days now.")
    second = knowledge.reload()
    assert (second.build.embedded_articles, second.build.reused_articles) == (1, 2) and second.changed
    assert knowledge.search("how many days do i have to send it back")[0].article.answer == "Within sixty days now."
    again = KnowledgeBase(folder, tmp_path / "models", KnowledgeConfig()).reload()  # a restart: loads from disk
    assert again.build.embedded_articles == 0 and again.build.content_hash == second.build.content_hash
    assert len([p for p in (tmp_path / "models" / "knowledge").iterdir() if not p.name.startswith(".")]) == 2


@pytest.fixture(scope="module")
def demo_knowledge(tmp_path_factory):
    knowledge = KnowledgeBase(ROOT / "knowledge", tmp_path_factory.mktemp("kb-models"), KnowledgeConfig())
    assert knowledge.reload().ok
    return knowledge


@pytest.mark.parametrize("question, expected", [
    ("can you deliver an order to vancouver", "shipping-canada"),
    ("how long is the guarantee on the n w forty four ten", "nw-4410-warranty"),
    ("my px90 keeps jamming", "px-90-shredder"),
    ("the kestral desk motor stopped", "kestrel-desk-motor"),
    ("are you open on christmas day", "hours-holidays"),
])
def test_search_finds_the_right_article(demo_knowledge, question, expected):
    hits = demo_knowledge.search(question)
    assert hits[0].article.id == expected and hits[0].score > hits[1].score


def test_search_explains_its_hits(demo_knowledge):
    hit = demo_knowledge.search("tn-660 page yield")[0]
    assert hit.article.id == "tn-660-toner" and {"tn", "660"} <= set(hit.terms) and hit.lexical > 0.5
    assert hit.passage_kind in ("title", "question", "answer") and hit.dense > 0.3


# --- dialogue through the REST channel -----------------------------------------------------------

@pytest.fixture
async def project_copy(tmp_path):
    """The demo project in a temporary folder, so a test may edit its articles."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("config.yml", "nlu_data", "knowledge"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    return root


@pytest.fixture
async def kb_client(demo_archive, project_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    headers = use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(project_copy, demo_archive)), headers=headers) as client:
        yield client


async def test_a_question_is_answered_and_recorded_for_the_agent(kb_client):
    reply = await say(kb_client, "kb1", "do you guys deliver up to canada")
    assert "every canadian province" in reply and "anything else" in reply
    slots = (await tracker(kb_client, "kb1"))["slots"]
    assert slots["knowledge_article"] == "shipping-canada" and slots["knowledge_outcome"] == "answered"
    assert slots["knowledge_skill"] == "orders" and slots["knowledge_score"] >= 0.5


async def test_a_near_miss_asks_which_article_was_meant(kb_client):
    reply = await say(kb_client, "kb2", "how do i return it")
    assert "just to check" in reply and "return policy" in reply and "return label" in reply
    slots = (await tracker(kb_client, "kb2"))["slots"]
    assert slots["knowledge_outcome"] == "clarify" and slots["knowledge_article"] is None
    assert slots["knowledge_candidates"] == ["returns-policy", "returns-label"]
    reply = await say(kb_client, "kb2", "the label one")
    assert "prepaid label" in reply
    assert (await tracker(kb_client, "kb2"))["slots"]["knowledge_article"] == "returns-label"


@pytest.mark.parametrize("reply, picked", [
    ("the first one", "returns-policy"), ("the second one please", "returns-label"), ("the latter", "returns-label"),
    ("option two", "returns-label"), ("the policy", "returns-policy"), ("the label one", "returns-label"),
    ("the return one", None), ("the other one", None), ("two", None)])
def test_a_reply_picks_an_offered_article_by_position_or_by_name(reply, picked):
    offered = [("returns-policy", "Return policy"), ("returns-label", "Getting a return label")]
    assert choose(reply, offered) == picked  # "return" is in both titles; a bare "two" is not a choice


async def test_the_caller_picks_an_offered_article(kb_client):
    assert "just to check" in await say(kb_client, "kb6", "how do i return it")
    assert "prepaid label" in await say(kb_client, "kb6", "the second one")
    assert "just to check" in await say(kb_client, "kb7", "how do i return it")
    # "policy" alone would find the privacy policy; the offered return policy is what the caller means
    assert "thirty days" in await say(kb_client, "kb7", "policy")
    assert (await tracker(kb_client, "kb7"))["slots"]["knowledge_article"] == "returns-policy"
    # with nothing offered, a choice is not understood (and not a knowledge miss that offers a person)
    assert "say it another way" in await say(kb_client, "kb8", "the first one")


async def test_an_unknown_question_offers_a_person(kb_client):
    reply = await say(kb_client, "kb3", "do you have a carbon offset program")
    assert "don't have an answer" in reply and "connect you with a member of our team" in reply
    slots = (await tracker(kb_client, "kb3"))["slots"]
    assert slots["knowledge_outcome"] == "miss" and slots["knowledge_article"] is None
    assert slots["handoff_reason"] == "knowledge_miss"
    assert "please hold" in await say(kb_client, "kb3", "yes please")
    assert (await tracker(kb_client, "kb3"))["paused"]


async def test_hot_reload_serves_an_edit_and_refuses_a_broken_one(kb_client, project_copy):
    question = "do you guys deliver up to canada"
    path = project_copy / "knowledge" / "shipping-canada.md"
    path.write_text(path.read_text().replace("Delivery takes five to eight business days",
                                             "Delivery takes about a week"))
    response = await kb_client.post("/model/reload")
    assert response.status == 200, await response.text()
    details = (await response.json())["knowledge"]
    assert details["changed"] and details["embedded_articles"] == 1
    assert "about a week" in await say(kb_client, "kb4", question)

    path.write_text(path.read_text().replace("skill: orders", "skill: orders\nteam: shipping"))
    response = await kb_client.post("/model/reload")
    assert response.status == 400
    assert f"{path}:" in (message := (await response.json())["message"]) and "unknown front matter field 'team'" \
        in message
    assert "about a week" in await say(kb_client, "kb5", question)  # the last good index keeps serving
