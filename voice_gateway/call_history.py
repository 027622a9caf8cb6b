"""What a call session tells the call journal (``bot.core.call_journal``), timed on the recording's clock.

Lines are stamped with seconds from the start of the call's recording, so the call page can follow
the audio: a caller's line from where their speech starts in the recording, a bot's line from when
it was sent to be spoken. The bot's decisions go with the caller's line they answered, or with the
bot's first line when the bot spoke on its own (the greeting, an escalation after silence).
"""
from __future__ import annotations

import time
from typing import Any

from bot.core.call_journal import NoJournal, turn_decisions


class CallHistory:
    def __init__(self, journal, call_id: str, sensitive_slots: set[str], origin: float | None = None):
        self.journal = journal or NoJournal()
        self.call_id = call_id
        self.sensitive_slots = sensitive_slots
        self.origin = time.monotonic() if origin is None else origin  # monotonic time of second 0

    def since_start(self, monotonic: float | None = None) -> float:
        return max(0.0, (time.monotonic() if monotonic is None else monotonic) - self.origin)

    async def started(self, channel: str, caller_number: str | None) -> None:
        await self.journal.call_started(self.call_id, channel, caller_number,
                                        time.time() - self.since_start())

    def decisions(self, tracker) -> dict[str, Any]:
        return turn_decisions(tracker, self.sensitive_slots)

    async def caller(self, text: str, at: float, decisions: dict[str, Any], sensitive: bool = False,
                     barge_in: bool = False) -> None:
        await self.journal.line(self.call_id, "caller", text, at, sensitive=sensitive, barge_in=barge_in,
                                **decisions)

    async def bot(self, texts: list[str], decisions: dict[str, Any] | None = None) -> None:
        at = self.since_start()
        for index, text in enumerate(texts):
            await self.journal.line(self.call_id, "bot", text, at, **((decisions or {}) if index == 0 else {}))

    async def ended(self, recordings: dict[str, str]) -> None:
        await self.journal.call_ended(self.call_id, time.time(), recordings)
