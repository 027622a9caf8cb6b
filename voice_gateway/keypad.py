"""The caller's keypad: digits for the slot being asked for, 0 for a person, * to hear it again.

Digits are collected until ``#`` or until the caller stops pressing (the session runs the
inter-digit timer and calls ``timeout``). ``0`` pressed first asks for a person at once, unless the bot
is asking for digits: then a lone ``0`` still means a person, but ``0`` followed by more digits is a
number (PINs and order numbers may start with 0).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeypadAction:
    kind: str  # "digits", "agent" or "repeat"
    digits: str = ""


class KeypadCollector:
    def __init__(self, agent_key: str, repeat_key: str, submit_key: str):
        self.agent_key, self.repeat_key, self.submit_key = agent_key, repeat_key, submit_key
        self.buffer = ""

    @property
    def collecting(self) -> bool:
        return bool(self.buffer)

    def press(self, key: str, expecting_digits: bool) -> KeypadAction | None:
        if key == self.repeat_key:
            self.buffer = ""
            return KeypadAction("repeat")
        if key == self.submit_key:
            return self._submit()
        if not key.isdigit():
            return None  # A-D: not on phone keypads
        if key == self.agent_key and not self.buffer and not expecting_digits:
            return KeypadAction("agent")
        self.buffer += key
        return None

    def timeout(self) -> KeypadAction | None:
        return self._submit()

    def _submit(self) -> KeypadAction | None:
        digits, self.buffer = self.buffer, ""
        if not digits:
            return None
        if digits == self.agent_key:
            return KeypadAction("agent")
        return KeypadAction("digits", digits)
