"""One phone call through the pipeline: caller audio -> VAD -> ASR -> end of turn -> bot -> TTS -> caller.

The session is fed inbound frames by the transport (whatever the protocol) and sends outbound frames
back through it. Bot turns run one at a time in a worker task, in the order the caller's inputs
(utterances, keypad entries, silences) ended, while the inbound side keeps listening: that is what
makes barge-in possible. Recognition and synthesis run in worker threads.

This module holds the call's life cycle and what goes back to the caller; listening to the caller is in
``session_listening`` and the bot turns are in ``session_turns``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from bot import observe
from bot.security.pii import contains_pii
from voice_gateway.audio.dtmf import DtmfDetector
from voice_gateway.audio.hold import hold_chime
from voice_gateway.audio.resample import StreamResampler
from voice_gateway.call_history import CallHistory
from voice_gateway.caller_leg import GatewayCallerLeg
from voice_gateway.frames import CallStarted, Event, OutboundFrame
from voice_gateway.interruptions import strategies_from_config
from voice_gateway.keypad import KeypadCollector
from voice_gateway.playback import Playback
from voice_gateway.recording import CallRecorder
from voice_gateway.session_listening import PREROLL_WINDOWS, CallerListening
from voice_gateway.session_turns import BotTurns
from voice_gateway.turns.silence import SilenceTurnDetector
from voice_gateway.utterance import Utterance
from voice_gateway.vad import SAMPLE_RATE as VAD_RATE

logger = logging.getLogger(__name__)


class CallSession(CallerListening, BotTurns):
    def __init__(self, services, call_id: str, started: CallStarted, send: Callable[[OutboundFrame], Awaitable[None]],
                 close_transport: Callable[[str], Awaitable[None]], in_band_dtmf: bool = False, protocol: str = "",
                 transfer: Callable[[str], Awaitable[bool]] | None = None):
        """``call_id`` is the gateway's own id for the call; the carrier's is ``started.external_id``."""
        config = services.config
        self.services, self.config = services, config
        self.processor = services.processor
        self.call_id, self.caller_number, self.sample_rate = call_id, started.caller_number, started.sample_rate
        self.external_id, self.protocol = started.external_id, protocol
        self.send = send
        self._close_transport = close_transport
        self.transfer = transfer  # blind transfer to a URI, where the transport has one (SIP)
        self.started_at = time.monotonic()
        self.upsampler = StreamResampler(self.sample_rate, VAD_RATE)
        self.vad = services.vad.detector(config.vad_threshold)  # the process's model, batched with other calls
        self.turns = SilenceTurnDetector(config.turn_start_secs, config.end_of_turn_secs)
        self.preroll: deque[bytes] = deque(maxlen=PREROLL_WINDOWS)
        self.interruptions = strategies_from_config(config.barge_in)
        self.keypad = KeypadCollector(config.keypad.agent_key, config.keypad.repeat_key, config.keypad.submit_key)
        self.no_input = config.no_input_policy()
        self.dtmf = DtmfDetector() if in_band_dtmf else None
        self.recorder = CallRecorder(config.recording_dir, self.call_id, self.sample_rate, self.external_id) \
            if config.recording_dir else None
        self.playback = Playback(send, self.sample_rate, on_audio=self._record_bot_audio)
        self.history = CallHistory(services.journal, call_id, self.processor.sensitive_slots,
                                   self.recorder.started if self.recorder is not None else self.started_at)
        self.inputs: asyncio.Queue[tuple] = asyncio.Queue()
        self.expecting_digits = False  # the bot asked for an order number, a PIN...
        self.expected_digits: int | None = None  # how many digits that slot takes, when known
        self.sensitive = False  # ... and that answer must not be recorded (the PIN), from the question on
        self.paused = False  # the bot handed the call to a person
        self.bridged = False  # ... and the agent bridge has it
        self.queued = False  # the bot's handoff queued the call: set before its reply is spoken, so before bridged
        self.last_prompt: list[str] = []
        self.utterance: Utterance | None = None
        self.utterance_sensitive = False
        self.utterance_from = 0  # where the utterance starts in the caller's recording (samples)
        self.bot_leg_masked = False  # the bot is saying something that holds a secret
        self.utterance_mode = "normal"
        self.barge_in: str | None = None  # "pending" while the caller talks over the bot, "interrupted" once real
        self.hang_up_reason: str | None = None  # set when the gateway ends the call
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._recognised_at = self._answered_at = 0.0  # when the current turn's text and replies were ready
        self._spoke_until: float | None = None  # when the caller stopped speaking (None: a keypad or silence turn)
        self._hold: asyncio.Task | None = None
        self._worker: asyncio.Task | None = None
        self.leg = GatewayCallerLeg(self)

    # ---- life cycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Tell the client the call's id (clients that understand events), then answer the call."""
        logger.info("call started", extra=self._log(protocol=self.protocol, external_call_id=self.external_id,
                                                    sample_rate=self.sample_rate, caller_number=self.caller_number))
        await self._notify({"event": "started", "call_id": self.call_id, "external_call_id": self.external_id})
        await self.history.started(self.protocol, self.caller_number)
        self._worker = asyncio.ensure_future(self._work())

    async def close(self, reason: str) -> None:
        """The call is over (hang-up, protocol error, disconnect): stop everything, keep the records."""
        for handle in self._timers.values():
            handle.cancel()
        if self.utterance is not None:
            self.utterance.cancel()
        if self._worker is not None:
            self._worker.cancel()
        await self.playback.stop(clear=False)
        if self.queued and self.services.agent_bridge is not None:
            # bridged or not yet: a caller who hangs up once queued is abandoned, not left waiting
            try:
                await self.services.agent_bridge.caller_left(self.call_id, reason)
            except Exception:
                logger.exception("agent bridge failed on caller_left", extra=self._log())
        recordings = {}
        if self.recorder is not None:
            folder = self.recorder.close(reason).name
            recordings = {"caller": f"{folder}/caller.wav", "bot": f"{folder}/bot.wav"}
        await self.history.ended(recordings)
        logger.info("call ended", extra=self._log(reason=reason, seconds=round(time.monotonic() - self.started_at, 1)))

    async def hang_up(self, reason: str) -> None:
        self.hang_up_reason = reason
        await self.send(Event({"event": "hangup", "reason": reason}))
        await self._close_transport(reason)

    # ---- outbound ------------------------------------------------------------------------------------
    async def say(self, texts: list[str], ended_at: float | None = None, decisions: dict | None = None) -> bool:
        if not texts:
            return True
        for text in texts:
            self._line("bot", text)
            await self._notify({"event": "transcript", "speaker": "bot", "text": text, "final": True})
        await self.history.bot(texts, decisions)
        self.bot_leg_masked = any(contains_pii(text) for text in texts)  # never, unless an action repeats one

        def first_frame() -> None:
            if ended_at is not None:
                now = time.monotonic()
                latency_ms = (now - ended_at) * 1000
                self.services.turn_latencies_ms.append(latency_ms)
                recognised = max(ended_at, self._recognised_at)
                self._observe_turn(now, ended_at, recognised)
                logger.info("bot answered", extra=self._log(
                    after_end_of_turn_ms=round(latency_ms, 1), recognition_ms=round((recognised - ended_at) * 1000),
                    bot_ms=round((self._answered_at - recognised) * 1000),
                    speech_ms=round((now - self._answered_at) * 1000)))
                asyncio.ensure_future(self._notify({"event": "turn", "after_end_of_turn_ms": round(latency_ms, 1)}))

        try:
            return await self.playback.play(self.services.speech.speak(texts, self.sample_rate), first_frame)
        finally:
            self.bot_leg_masked = False

    def _observe_turn(self, first_audio: float, ended_at: float, recognised: float) -> None:
        observe.timing("turn", first_audio - ended_at)
        observe.timing("tts", first_audio - self._answered_at)
        if self._spoke_until is not None:  # a spoken turn (a keypad turn has no speech to recognise)
            observe.timing("speech_to_audio", first_audio - self._spoke_until)
            observe.timing("asr", recognised - ended_at)

    def start_hold(self) -> None:
        async def chimes():
            chime = hold_chime(self.sample_rate)
            while True:
                yield chime

        async def hold() -> None:
            try:
                await self.playback.play(chimes())
            except ConnectionError:
                pass  # the caller's line is gone; closing the call reports why

        self._hold = asyncio.ensure_future(hold())

    async def stop_hold(self) -> None:
        if self._hold is not None and not self._hold.done():
            await self.playback.stop(clear=True)
        self._hold = None

    async def _notify(self, data: dict) -> None:
        try:
            await self.send(Event(data))
        except ConnectionError:
            pass  # the call is ending; the reader side reports why

    def _record_bot_audio(self, pcm16: bytes) -> None:
        if self.recorder is not None:
            self.recorder.bot_audio(pcm16, masked=self.bot_leg_masked)

    def _line(self, speaker: str, text: str, masked: bool = False) -> None:
        if self.recorder is not None:
            self.recorder.line(speaker, text, masked)

    # ---- timers --------------------------------------------------------------------------------------
    def _set_timer(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer(name)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, callback)

    def _cancel_timer(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _log(self, **extra: Any) -> dict:
        return {"call_id": self.call_id, **extra}
