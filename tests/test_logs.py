"""Structured logs are JSON lines and never carry card numbers or secrets."""
import io
import json
import logging
import sys

from bot import observe
from helpline.logs import JsonFormatter, StderrHandler, scrub
from tests.log_capture import json_logs


def test_log_records_are_json_with_extra_fields_and_masked_secrets():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "paid with 4111 1111 1111 1111", None, None)
    record.sender_id = "caller-7"
    record.slots = {"pin": "2468", "order_number": "472918"}
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "paid with [redacted]" and line["sender_id"] == "caller-7"
    assert line["slots"] == {"pin": "[redacted]", "order_number": "472918"}
    content = json.dumps({k: v for k, v in line.items() if k != "ts"})  # the clock's digits are not content
    assert "2468" not in content and "4111" not in content


def test_the_log_handler_writes_to_stderr_as_it_is_now(monkeypatch):
    """A stream swapped in while logging was configured, then closed, is never written to."""
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    handler.emit(logging.LogRecord("bot", logging.INFO, __file__, 1, "still heard", None, None))
    assert json.loads(second.getvalue())["event"] == "still heard"


def test_scrub_leaves_ordinary_values_alone():
    assert scrub({"date_of_birth": None, "text": "order 472918", "n": 3}) == {
        "date_of_birth": None, "text": "order 472918", "n": 3}


async def test_a_rest_turn_logs_info_lines_from_the_bot_with_the_conversation_id(demo_archive, tmp_path, monkeypatch):
    """The server's log at its default level: the bot's own lines and the access line name the conversation."""
    from aiohttp.test_utils import TestClient, TestServer

    from helpline.app import build_app
    from tests.conftest import ROOT

    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    with json_logs(logging.INFO) as stream:  # what `helpline run` logs by default
        async with TestClient(TestServer(build_app(ROOT, demo_archive))) as client:
            response = await client.post("/webhooks/rest/webhook",
                                         json={"sender": "log-caller-1", "message": "my card is 4111 1111 1111 1111"})
            assert response.status == 200
            await client.get("/health")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    turn = [line for line in lines if line.get("conversation_id") == "log-caller-1"]
    bot_lines = {line["event"] for line in turn if line["logger"].startswith("bot.") and line["level"] == "info"}
    assert "action executed" in bot_lines, bot_lines
    access = [line for line in lines if line["logger"] == "helpline.access"]
    webhook = next(line for line in access if line["path"] == "/webhooks/rest/webhook")
    assert (webhook["status"], webhook["method"], webhook["conversation_id"]) == (200, "POST", "log-caller-1")
    health = next(line for line in access if line["path"] == "/health")
    assert health["conversation_id"] is None  # another request's id never leaks into this one
    assert "4111" not in json.dumps([{k: v for k, v in line.items() if k not in ("ts", "ms")} for line in lines])


def test_lines_written_for_a_conversation_carry_its_id_and_others_do_not():
    record = logging.LogRecord("bot.core.processor", logging.INFO, __file__, 1, "action executed", None, None)
    with observe.in_conversation("caller-9"):
        inside = json.loads(JsonFormatter().format(record))
    assert inside["conversation_id"] == "caller-9"
    assert json.loads(JsonFormatter().format(record))["conversation_id"] is None


def test_a_failing_metric_is_logged_and_never_breaks_the_turn(caplog):
    class Broken:
        def timing(self, stage, seconds, **labels):
            raise ValueError("no such histogram")

        def count(self, event, **labels):
            raise ValueError("no such counter")

    previous = observe.install(Broken())
    try:
        observe.count("turn", channel="voice")
        with observe.timed("nlu"):
            pass
    finally:
        observe.install(previous)
    assert "count not recorded" in caplog.text and "timing not recorded" in caplog.text
