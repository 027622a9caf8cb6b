"""After a crash: the calls a dead process held are closed, not left waiting for an agent.

A single server (SQLite stores, one process by ``workers.SingleProcessLock``) lists its live calls
in ``<data_dir>/live_calls.json``, rewritten (atomically) as calls open and close. Whatever that
file lists when the server starts was on the line of a process that ended without closing it
(``kill -9``, a power cut): those lines are gone. Before the ACD offers any call, each of them is
closed as abandoned in the ACD (a caller who was with an agent is completed) and its conversation,
paused for the handoff, is resumed so that nothing waits on it. Several workers on Redis do the
same through ``worker_lease.WorkerLease``, which calls ``resume_paused`` too.

Transcripts need nothing here: ``voice_gateway.recording`` rewrites each call's transcript with
every line, so a crash loses at most the turn in progress.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from aiohttp import web

from bot.core.events import ConversationResumed

logger = logging.getLogger(__name__)
LIVE_CALLS_FILE = "live_calls.json"
LOST_REASON = "the process serving the call stopped"  # in the ACD's notes and the records


async def resume_paused(processor, call_id: str) -> bool:
    """Resume the conversation of a call that is over if a handoff left it paused; True if it was."""
    tracker = await processor.get_tracker(call_id)
    if not tracker.paused:
        return False
    await processor.store.append(call_id, [ConversationResumed()])
    return True


class LocalLines:
    """This process's live calls, in a file beside its SQLite stores (the hooks ``VoiceServices.live_calls`` calls)."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / LIVE_CALLS_FILE
        self.calls: dict[str, dict] = {}

    def opened(self, call_id: str, info: dict) -> None:
        self.calls[call_id] = info
        self._save()

    def closed(self, call_id: str) -> None:
        if self.calls.pop(call_id, None) is not None:
            self._save()

    def _save(self) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.calls))
        os.replace(partial, self.path)

    def left_over(self) -> dict[str, dict]:
        """The calls a previous process listed and never closed."""
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    async def recover(self, acd, processor) -> list[str]:
        """Close every left-over call (before the ACD runs); returns their ids."""
        lost = self.left_over()
        for call_id, info in lost.items():
            state = await acd.caller_left(call_id, LOST_REASON)  # None: the call never reached a queue
            resumed = await resume_paused(processor, call_id)
            logger.warning("call of a stopped process closed", extra={
                "conversation_id": call_id, "queue_state": state, "resumed": resumed, **info})
        self.calls = {}
        self._save()
        return list(lost)


def recover_on_start(app: web.Application, lines: LocalLines, acd, processor) -> None:
    """Run ``lines.recover`` when the server starts, ahead of everything else it starts (the ACD loop)."""
    async def recovering(_: web.Application):
        await lines.recover(acd, processor)
        yield

    app.cleanup_ctx.insert(0, recovering)
