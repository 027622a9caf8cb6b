"""What every call in the process shares: the bot, the loaded models, the voice settings, the agent bridge."""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field

from bot import observe
from voice_gateway.agent_bridge import AgentBridge
from voice_gateway.asr.scheduler import RecognitionScheduler
from voice_gateway.config import VoiceConfig
from voice_gateway.limits import ConnectionLimits
from voice_gateway.speech import BotVoice, fixed_response_texts
from voice_gateway.vad import BatchedVad

logger = logging.getLogger(__name__)


@dataclass
class VoiceServices:
    processor: object  # bot.core.processor.MessageProcessor
    config: VoiceConfig
    asr: object = None  # voice_gateway.asr.ASREngine, loaded at start-up
    # decodes run one at a time: Whisper and Moonshine decode on one model under a lock, Vosk's final is trivial
    recognition: RecognitionScheduler = field(default_factory=RecognitionScheduler)
    speech: BotVoice | None = None
    vad: BatchedVad | None = None  # voice activity detection, batched across the calls
    agent_bridge: AgentBridge | None = None
    calls: dict = field(default_factory=dict)  # call_id -> CallSession, live calls
    connections: ConnectionLimits = field(init=False)  # open voice connections, by client address
    turn_latencies_ms: list[float] = field(default_factory=list)  # end of turn -> first bot audio frame sent
    journal: object | None = None  # bot.core.call_journal.CallJournal: the call records, where kept
    live_calls: object | None = None  # told of every call opened and closed (helpline.worker_lease.WorkerLease)
    loading: asyncio.Future | None = None  # load_models(), started with the app
    prewarming: asyncio.Future | None = None  # prewarm(), started once the models are loaded

    def __post_init__(self) -> None:
        self.connections = ConnectionLimits(self.config)

    def call_opened(self, session) -> None:
        self.calls[session.call_id] = session
        observe.count("call_opened", protocol=session.protocol)
        if self.live_calls is not None:
            self.live_calls.opened(session.call_id, {"protocol": session.protocol,
                                                     "external_call_id": session.external_id})

    def call_closed(self, call_id: str) -> None:
        if self.calls.pop(call_id, None) is not None:
            observe.count("call_closed")
        if self.live_calls is not None:
            self.live_calls.closed(call_id)

    async def ready(self) -> None:
        """Wait until the models are loaded (a call that arrives during start-up waits here)."""
        if self.loading is None:
            self.loading = asyncio.ensure_future(self.load_models())
        await asyncio.shield(self.loading)

    async def load_models(self) -> None:
        """Load the recogniser and the voice once per process, in a worker thread (seconds)."""
        from voice_gateway.asr import create_engine
        from voice_gateway.tts import create_synthesizer

        loop = asyncio.get_running_loop()
        self.asr = await loop.run_in_executor(None, create_engine, self.config.asr.engine_options())
        synthesizer = await loop.run_in_executor(None, create_synthesizer, self.config.tts.engine_options())
        self.speech = BotVoice(synthesizer)
        self.vad = await loop.run_in_executor(None, BatchedVad)
        logger.info("voice models loaded", extra={"asr": getattr(self.asr, "name", "?"),
                                                  "tts": getattr(synthesizer, "name", "?")})
        if self.config.prewarm_responses:
            self.prewarming = asyncio.ensure_future(self.prewarm())

    def status(self) -> dict:
        """For operators and benchmarks: are the models loaded, the fixed responses synthesized?

        ``process`` tells which worker answered when several share the port."""
        loaded = self.loading is not None and self.loading.done() and not self.loading.cancelled() \
            and self.loading.exception() is None
        return {"process": os.getpid(), "models_loaded": loaded, "asr": getattr(self.asr, "name", None),
                "prewarmed": self.prewarming is not None and self.prewarming.done(), "live_calls": len(self.calls),
                "open_connections": self.connections.open,
                "turns_answered": len(self.turn_latencies_ms),
                "speculative_decodes": self.recognition.speculations,
                "speculations_skipped_busy": self.recognition.speculations_skipped,
                "vad_windows_per_batch": round(self.vad.windows / self.vad.batches, 2) if self.vad and self.vad.batches
                else None}

    async def prewarm(self, sample_rates=(8000,)) -> None:
        """Synthesize the fixed responses ahead of the first call (config ``prewarm_responses``)."""
        texts = fixed_response_texts(self.processor.model.domain)
        for rate in sample_rates:
            await self.speech.prewarm(texts, rate)
        logger.info("fixed responses synthesized", extra={"responses": len(texts)})
