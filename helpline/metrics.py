"""Prometheus metrics (``GET /metrics``) and readiness (``GET /ready``).

The bot, the voice gateway and the ACD report through ``bot.observe``; ``PrometheusObserver`` turns
those reports into the metrics below. What lives in a store (queue lengths, agents by state) and
the model being served are read when Prometheus scrapes, so they are right whichever process
answers.

**Several workers** (``helpline run --workers N``): the kernel hands a scrape to any worker, so a
per-worker registry would answer with a random worker's share. The supervisor therefore gives every
worker one ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode: each process writes
its values to memory-mapped files there) and every worker's ``/metrics`` adds up all of them. Live
gauges drop a dead worker's share (``worker_died``); counters and histograms keep it, as Prometheus
expects of a counter.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess,
)

from bot import observe
from handoff.model import AGENT_STATES, WAITING

logger = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
READY_TIMEOUT_SECS = 2.0

CALLS = Counter("helpline_calls", "Phone calls answered", ["protocol"])
LIVE_CALLS = Gauge("helpline_live_calls", "Phone calls in progress", multiprocess_mode="livesum")
TURNS = Counter("helpline_turns", "Caller turns the bot processed", ["channel"])
TURN_LATENCY = Histogram("helpline_turn_latency_seconds", "End of the caller's turn to the bot's first audio",
                         buckets=LATENCY_BUCKETS)
SPEECH_LATENCY = Histogram("helpline_speech_to_audio_seconds",
                           "End of the caller's speech to the bot's first audio (the end-of-turn silence included)",
                           buckets=LATENCY_BUCKETS)
STAGE = Histogram("helpline_stage_seconds", "Time of one stage of a turn: asr (after the end of turn), nlu, "
                  "dialogue (policies and actions), tts (to the first audio)", ["stage"], buckets=LATENCY_BUCKETS)
FALLBACKS = Counter("helpline_fallbacks", "Turns that fell back: nlu (nlu_fallback) or core (action_default_fallback)",
                    ["kind"])
KNOWLEDGE = Counter("helpline_knowledge_outcomes", "Knowledge base decisions", ["outcome"])
ESCALATIONS = Counter("helpline_escalations", "Handoffs to a person, by reason", ["reason"])
ABANDONED = Counter("helpline_abandoned_calls", "Callers who left a queue before reaching an agent", ["queue"])
QUEUE_WAIT = Histogram("helpline_queue_wait_seconds", "Time in a queue, by how the wait ended", ["queue", "outcome"],
                       buckets=WAIT_BUCKETS)
QUEUE_WAITING = Gauge("helpline_queue_waiting", "Callers waiting in each queue", ["queue"],
                      multiprocess_mode="mostrecent")
AGENTS = Gauge("helpline_agents", "Agents by state", ["state"], multiprocess_mode="mostrecent")
MODEL = Gauge("helpline_model_info", "1 for the model version this process serves", ["version", "fingerprint"],
              multiprocess_mode="livemax")

_COUNTERS = {"turn": TURNS, "fallback": FALLBACKS, "knowledge": KNOWLEDGE, "escalation": ESCALATIONS,
             "abandoned": ABANDONED, "call_opened": CALLS}
_TIMINGS = {"turn": TURN_LATENCY, "speech_to_audio": SPEECH_LATENCY, "queue_wait": QUEUE_WAIT}


class PrometheusObserver:
    def timing(self, stage: str, seconds: float, **labels: str) -> None:
        histogram = _TIMINGS.get(stage)
        if histogram is None:
            STAGE.labels(stage).observe(seconds)
        else:
            (histogram.labels(**labels) if labels else histogram).observe(seconds)

    def count(self, event: str, **labels: str) -> None:
        if event == "call_closed":
            LIVE_CALLS.dec()
            return
        if event == "call_opened":
            LIVE_CALLS.inc()
        _COUNTERS[event].labels(**labels).inc()


# ---- several workers ------------------------------------------------------------------------------------
def prepare_multiprocess(folder: Path) -> None:
    """Before the workers start (from the supervisor): an empty folder they all write their values to."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def worker_died(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


def exposition() -> bytes:
    """The text Prometheus scrapes: this process's registry, or every worker's values added up."""
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


# ---- the routes -----------------------------------------------------------------------------------------
class Operations:
    """``/metrics`` and ``/ready`` for one server: its bot, ACD, model versions and voice services."""

    def __init__(self, processor, acd, versions, voice=None):
        self.processor, self.acd, self.versions, self.voice = processor, acd, versions, voice
        self._models_seen: set[tuple[str, str]] = set()

    def add_routes(self, app: web.Application) -> None:
        observe.install(PrometheusObserver())
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/ready", self.ready)

    async def metrics(self, request: web.Request) -> web.Response:
        await self._read_stores()
        return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _read_stores(self) -> None:
        try:
            calls, agents = await self.acd.store.calls(), await self.acd.store.agents()
        except Exception as error:  # a scrape still answers with what this process knows
            logger.warning("ACD store not read for the metrics", extra={"error": str(error)})
            return
        for queue in self.acd.queues:
            QUEUE_WAITING.labels(queue).set(sum(1 for c in calls if c.queue == queue and c.state == WAITING))
        for state in AGENT_STATES:
            AGENTS.labels(state).set(sum(1 for a in agents if a.state == state))
        serving = (self.versions.serving or "", self.processor.model.fingerprint)
        for seen in self._models_seen - {serving}:
            MODEL.labels(*seen).set(0)
        self._models_seen.add(serving)
        MODEL.labels(*serving).set(1)

    async def ready(self, request: web.Request) -> web.Response:
        """200 once the models are loaded and every store answers; else 503 naming the parts that are not."""
        checks = {"tracker store": self.processor.store.retrieve("__ready__"),
                  "handoff store": self.acd.store.get_meta("ready"),
                  "lock store": self._lock_store()}
        results = await asyncio.gather(*(asyncio.wait_for(check, READY_TIMEOUT_SECS) for check in checks.values()),
                                       return_exceptions=True)
        not_ready = []
        for name, result in zip(checks, results):
            if isinstance(result, BaseException):
                not_ready.append(name)
                logger.warning("not ready", extra={"part": name, "error": repr(result)})
        if self.voice is not None and not self.voice.status()["models_loaded"]:
            not_ready.insert(0, "voice models")
        if not_ready:
            return web.json_response({"status": "not ready", "not_ready": not_ready}, status=503)
        return web.json_response({"status": "ready"})

    async def _lock_store(self) -> None:
        async with self.processor.lock_store.lock("__ready__"):
            pass
