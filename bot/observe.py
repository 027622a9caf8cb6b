"""What a turn reports to whoever watches: the conversation it belongs to, its timings and its outcomes.

The bot, the voice gateway and the ACD call these functions where the values are already known;
they do nothing until the composition root installs an ``Observer`` (``helpline.metrics`` turns
them into Prometheus metrics), so none of those packages knows about the metrics library.

``conversation_id`` is the call or conversation a piece of work belongs to. It is set where a call
or a message comes in and read by the log formatter, so every log line of a turn, the bot's NLU,
dialogue and action lines included, carries the id without passing it along by hand. asyncio copies
context variables into the tasks a turn starts and ``asyncio.to_thread`` into its thread
(``run_in_executor`` does not: work whose log lines matter goes through ``to_thread``).
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Protocol

logger = logging.getLogger(__name__)
conversation_id: ContextVar[str | None] = ContextVar("conversation_id", default=None)


class Observer(Protocol):
    def timing(self, stage: str, seconds: float, **labels: str) -> None: ...

    def count(self, event: str, **labels: str) -> None: ...


class _Nobody:
    def timing(self, stage: str, seconds: float, **labels: str) -> None:
        pass

    def count(self, event: str, **labels: str) -> None:
        pass


_observer: Observer = _Nobody()


def install(observer: Observer | None) -> Observer:
    """The process's observer (None: report to nobody); returns the one it replaces."""
    global _observer
    previous, _observer = _observer, observer or _Nobody()
    return previous


def timing(stage: str, seconds: float, **labels: str) -> None:
    """``stage`` took ``seconds``: ``nlu``, ``dialogue``, ``asr``, ``tts``, ``turn``, ``speech_to_audio``..."""
    try:
        _observer.timing(stage, seconds, **labels)
    except Exception:  # a metric never ends a call
        logger.exception("timing not recorded", extra={"stage": stage})


def count(event: str, **labels: str) -> None:
    """Something happened once: ``fallback``, ``knowledge`` (outcome=...), ``escalation`` (reason=...)..."""
    try:
        _observer.count(event, **labels)
    except Exception:  # a metric never ends a call
        logger.exception("count not recorded", extra={"event": event})


@contextmanager
def timed(stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timing(stage, time.perf_counter() - started)


@contextmanager
def in_conversation(sender_id: str | None) -> Iterator[None]:
    """Work for ``sender_id`` from here to the end of the block (log lines carry it)."""
    token = conversation_id.set(sender_id)
    try:
        yield
    finally:
        conversation_id.reset(token)
