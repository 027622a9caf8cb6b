"""JSON from the network with limits on nesting, so deep input is a clean 400 and not a crash.

Python's ``json`` recurses once per level and raises ``RecursionError`` (a 500) on input nested a
few thousand deep; a cheap scan of the brackets outside strings refuses such input first. No JSON
library on the index offers a depth limit, hence this small scanner.
"""
from __future__ import annotations

import json
import re

MAX_DEPTH = 32


class JsonLimitError(ValueError):
    """The body is not acceptable JSON; the message says why (safe to return to the client)."""


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(text: str | bytes, max_depth: int = MAX_DEPTH):
    """``json.loads`` that refuses invalid UTF-8, invalid JSON and nesting past ``max_depth``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonLimitError(f"body is not UTF-8 ({error.reason} at byte {error.start})") from None
    if nesting_depth(text) > max_depth:
        raise JsonLimitError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise JsonLimitError(f"body is not valid JSON: {error}") from None
