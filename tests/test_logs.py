"""Structured logs are JSON lines and never carry card numbers or secrets."""
import json
import logging

from helpline.logs import JsonFormatter, scrub


def test_log_records_are_json_with_extra_fields_and_masked_secrets():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "paid with 4111 1111 1111 1111", None, None)
    record.sender_id = "caller-7"
    record.slots = {"pin": "2468", "order_number": "472918"}
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "paid with [redacted]" and line["sender_id"] == "caller-7"
    assert line["slots"] == {"pin": "[redacted]", "order_number": "472918"}
    content = json.dumps({k: v for k, v in line.items() if k != "ts"})  # the clock's digits are not content
    assert "2468" not in content and "4111" not in content


def test_scrub_leaves_ordinary_values_alone():
    assert scrub({"date_of_birth": None, "text": "order 472918", "n": 3}) == {
        "date_of_birth": None, "text": "order 472918", "n": 3}
