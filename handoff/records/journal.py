"""Keeps the call records: the bot's ``CallJournal`` for the channels, and a watcher that follows the ACD.

The voice gateway reports a call's start, every line (with the bot's decisions) and its end; the
ACD reports the queue, the agent, the times, the notes and how the call left. Texts are masked
here (``bot.security.pii``) whatever the channel sent, and the caller's number is kept masked. At
the end of a call its outcome is settled (contained when it never reached a queue), the scorecard
is filled in and ``on_closed`` listeners hear of it (the live KPIs). A store that fails is logged
and never ends a call.
"""
from __future__ import annotations

import logging
import re
import time
from typing import Any, Awaitable, Callable

from bot.security.pii import MASK, mask_number, mask_pii, mask_value
from handoff.model import ABANDONED as ACD_ABANDONED, CALLBACK as ACD_CALLBACK, COMPLETED, QueuedCall
from handoff.model import TRANSFERRED as ACD_TRANSFERRED, VOICEMAIL as ACD_VOICEMAIL, WRAP_UP
from handoff.quality.config import ScorecardConfig
from handoff.quality.scorecard import score_call
from handoff.quality.sentiment import sentiment
from handoff.records.base import CallRecordStore
from handoff.records.model import (
    ABANDONED, CALLBACK, CONTAINED, HANDED_OFF, IN_PROGRESS, TRANSFERRED, VOICEMAIL, CallRecord, Turn,
)

logger = logging.getLogger(__name__)
OUTCOME_OF_ACD = {COMPLETED: HANDED_OFF, ACD_ABANDONED: ABANDONED, ACD_CALLBACK: CALLBACK,
                  ACD_VOICEMAIL: VOICEMAIL, ACD_TRANSFERRED: TRANSFERRED}
PHONE = re.compile(r"\+?\d[\d ()-]{5,}\d")  # 7 digits or more: a phone number (order numbers have 6)
TURN_KEYS = {"intent", "confidence", "actions", "article", "knowledge", "fallback", "barge_in", "sensitive", "slots"}


class RecordJournal:
    def __init__(self, store: CallRecordStore, scorecard: ScorecardConfig | None = None,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.scorecard = scorecard or ScorecardConfig()
        self.clock = clock
        self.on_closed: list[Callable[[CallRecord], Awaitable[None]]] = []
        self._wrapping: dict[str, tuple[str, float]] = {}  # agent -> (call, when the agent's leg ended)

    # ---- the bot's CallJournal ---------------------------------------------------------------------
    async def call_started(self, call_id: str, channel: str, caller_number: str | None, started_at: float) -> None:
        await self._safely("start", call_id, self.store.start(
            CallRecord(call_id, channel, started_at, caller=mask_number(caller_number))))

    async def line(self, call_id: str, speaker: str, text: str, at: float, **decisions: Any) -> None:
        turn = Turn(at=round(at, 3), speaker=speaker, text=MASK if decisions.get("sensitive") else masked(text),
                    **{k: v for k, v in decisions.items() if k in TURN_KEYS})
        turn.slots = masked(turn.slots)
        if speaker == "caller" and not turn.sensitive:
            turn.sentiment = sentiment(turn.text)
        await self._safely("turn", call_id, self.store.add_turn(call_id, turn))

    async def call_ended(self, call_id: str, ended_at: float, recordings: dict[str, str]) -> None:
        await self._safely("end", call_id, self._close(call_id, ended_at, recordings))

    async def _close(self, call_id: str, ended_at: float, recordings: dict[str, str]) -> None:
        record = await self.store.get(call_id)
        if record is None:
            return
        record.ended_at = ended_at
        record.recordings = {**record.recordings, **recordings}
        if record.outcome == IN_PROGRESS:
            record.outcome = CONTAINED if record.queued_at is None else ABANDONED
        card = score_call(record, self.scorecard)
        record.qa_score, record.qa_flags = card.score, card.flags
        await self.store.update(call_id, ended_at=ended_at, recordings=record.recordings, outcome=record.outcome,
                                qa_score=card.score, qa_flags=card.flags)
        logger.info("call record closed", extra={"call_id": call_id, "outcome": record.outcome,
                                                 "qa_score": card.score, "flags": card.flags})
        for listener in self.on_closed:
            await listener(record)

    async def close_orphans(self) -> int:
        """Close the records a dead process left open (call this only where no other process writes records):
        the line is gone, so the call was abandoned; it ends at its last line. Returns how many."""
        orphans = await self.store.open_calls()
        for record in orphans:
            ended = record.started_at + (record.turns[-1].at if record.turns else 0.0)
            await self.store.update(record.id, outcome=ABANDONED)
            await self._close(record.id, ended, {})
        if orphans:
            logger.warning("call records left open by a stopped server closed as abandoned",
                           extra={"count": len(orphans)})
        return len(orphans)

    async def _safely(self, what: str, call_id: str, work: Awaitable) -> None:
        try:
            await work
        except Exception:
            logger.exception("call record not written", extra={"call_id": call_id, "step": what})

    # ---- the ACD's watcher -------------------------------------------------------------------------
    async def acd_changed(self, event: str, call: QueuedCall | None, agent_id: str | None) -> None:
        if call is None:
            await self._agent_state(event, agent_id)
            return
        fields: dict[str, Any] = {"queue": call.queue, "escalation_reason": call.reason or None,
                                  "queued_at": call.entered_at or None, "summary": _masked_summary(call.summary),
                                  "notes": "\n".join(n for n in call.notes if not n.startswith("ended: "))}
        if call.agent_id:
            fields["agent_id"] = call.agent_id
        if call.answered_at:
            fields["answered_at"] = call.answered_at
        if event == "ended":
            fields["outcome"] = OUTCOME_OF_ACD.get(call.state, IN_PROGRESS)
            if call.state == COMPLETED and call.agent_id:
                fields["agent_ended_at"] = call.ended_at
                self._wrapping[call.agent_id] = (call.id, call.ended_at or self.clock())
        await self._safely("acd " + event, call.id, self._update_or_start(call, fields))

    async def _update_or_start(self, call: QueuedCall, fields: dict) -> None:
        """A call that reached the ACD without a journalled start (a channel without records) gets one now."""
        if await self.store.get(call.id) is None:
            await self.store.start(CallRecord(call.id, "unknown", call.entered_at or self.clock(),
                                              caller=mask_number(call.caller_number)))
        await self.store.update(call.id, **fields)

    async def _agent_state(self, event: str, agent_id: str | None) -> None:
        """The agent left wrap-up: that call's after-call work is over."""
        if agent_id is None or event == f"agent_{WRAP_UP}" or agent_id not in self._wrapping:
            return
        call_id, ended_at = self._wrapping.pop(agent_id)
        await self._safely("wrap-up", call_id, self.store.update(
            call_id, wrap_up_seconds=round(max(0.0, self.clock() - ended_at), 1)))


def masked(value: Any) -> Any:
    """Texts and values as records keep them: PINs, cards and dates of birth masked (``bot.security.pii``), and
    phone numbers down to their last four digits, wherever they appear (caller-ID slots, summaries, words)."""
    if isinstance(value, str):
        return PHONE.sub(lambda m: mask_number(m.group()) if sum(c.isdigit() for c in m.group()) >= 7
                         else m.group(), mask_pii(value))
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item) for item in value]
    return mask_value(value)


def _masked_summary(summary: dict | None) -> dict | None:
    return masked(summary) if summary else None
