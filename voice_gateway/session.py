"""One phone call through the pipeline: caller audio -> VAD -> ASR -> end of turn -> bot -> TTS -> caller.

The session is fed inbound frames by the transport (whatever the protocol) and sends outbound frames
back through it. Bot turns run one at a time in a worker task, in the order the caller's inputs
(utterances, keypad entries, silences) ended, while the inbound side keeps listening: that is what
makes barge-in possible. Recognition and synthesis run in worker threads.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from bot import observe
from bot.core.events import ActionExecuted, UserUttered
from bot.core.processor import UserMessage
from bot.security.pii import contains_pii, mask_pii
from voice_gateway.agent_bridge import BRIDGE_SAMPLE_RATE
from voice_gateway.audio.dtmf import DtmfDetector
from voice_gateway.audio.hold import hold_chime
from voice_gateway.audio.resample import StreamResampler, resample
from voice_gateway.call_history import CallHistory
from voice_gateway.caller_leg import GatewayCallerLeg
from voice_gateway.frames import CallerAudio, CallStarted, Event, KeyPressed, OutboundFrame, PlaybackMark
from voice_gateway.interruptions import strategies_from_config
from voice_gateway.keypad import KeypadAction, KeypadCollector
from voice_gateway.playback import Playback
from voice_gateway.recording import CallRecorder
from voice_gateway.turns.complete_digits import holds_all_digits
from voice_gateway.turns.silence import SilenceTurnDetector, TurnEvent
from voice_gateway.utterance import Utterance
from voice_gateway.vad import SAMPLE_RATE as VAD_RATE

logger = logging.getLogger(__name__)
PREROLL_WINDOWS = 10  # ~320 ms of audio before the turn start is confirmed, so the first syllable is kept


class CallSession:
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
        if self.bridged and self.services.agent_bridge is not None:
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

    # ---- inbound -------------------------------------------------------------------------------------
    async def on_frame(self, frame) -> None:
        if isinstance(frame, CallerAudio):
            await self._on_audio(frame.pcm16)
        elif isinstance(frame, KeyPressed):
            await self._on_key(frame.digit)
        elif isinstance(frame, PlaybackMark):
            pass  # the gateway paces its audio and knows when playback ends; marks are informational

    async def _on_audio(self, pcm16: bytes) -> None:
        if self.recorder is not None:
            self.recorder.caller_audio(pcm16, masked=self.sensitive)
        if self.dtmf is not None:
            for key in self.dtmf.feed(pcm16):
                self._drop_utterance()  # the tone was heard as "speech"
                await self._on_key(key)
        pcm16k = self.upsampler.process(pcm16)
        if self.bridged:
            await self.services.agent_bridge.caller_audio(self.call_id, pcm16k, BRIDGE_SAMPLE_RATE)
            return
        for speech, window in await self.vad.process(pcm16k):
            event = self.turns.update(speech, self.vad.window_secs)
            if self.utterance is None:
                self.preroll.append(window)
                if event is TurnEvent.STARTED:
                    self._start_utterance()
            else:
                self.utterance.feed(self._asr_audio(window))
                self._speculate(speech)
                if speech and self.barge_in == "pending":
                    for strategy in self.interruptions:
                        strategy.append_audio(window, VAD_RATE)
                    await self._check_barge_in()
            if event is TurnEvent.ENDED and self.utterance is not None:
                self._end_utterance(self.turns.silence_secs)
            elif self.utterance is not None and self._digits_complete():
                quiet = self.turns.silence_secs_so_far
                self.turns.reset()
                self._end_utterance(quiet)

    def _digits_complete(self) -> bool:
        """A digits turn ends after the normal silence once the early recognition holds every digit."""
        return (self.expected_digits is not None
                and self.turns.silence_secs_so_far >= self.config.end_of_turn_secs
                and holds_all_digits(self.utterance.speculation, self.expected_digits))

    def _speculate(self, speech: bool) -> None:
        """Recognise early when the caller pauses; forget the guess when they go on."""
        after = self.config.speculate_after_secs
        utterance = self.utterance
        if speech and utterance.speculation is not None:
            utterance.drop_speculation()
        elif (after is not None and not speech and utterance.can_speculate()
              and self.turns.silence_secs_so_far >= after):
            utterance.speculate(self._recognizer())

    def _recognizer(self):
        return self.services.asr.recognizer(self.utterance_mode, self.expected_digits)

    def _asr_audio(self, pcm16k: bytes) -> bytes:
        rate = self.services.asr.sample_rate
        return pcm16k if rate == VAD_RATE else resample(pcm16k, VAD_RATE, rate)

    def _start_utterance(self) -> None:
        self._cancel_timer("no_input")
        self.utterance_mode = "digits" if self.expecting_digits else "normal"
        self.utterance = Utterance(self._recognizer(), self._on_partial, self.services.recognition)
        self.utterance_sensitive = self.sensitive
        if self.recorder is not None:
            preroll_secs = len(self.preroll) * self.vad.window_secs
            self.utterance_from = self.recorder.caller_samples - int(preroll_secs * self.sample_rate)
        for window in self.preroll:
            self.utterance.feed(self._asr_audio(window))
        self.preroll.clear()
        self.barge_in = "pending" if self.playback.playing else None
        for strategy in self.interruptions:
            strategy.reset()

    def _on_partial(self, text: str) -> None:
        if not self.utterance_sensitive:
            asyncio.ensure_future(self._notify({"event": "transcript", "speaker": "caller", "text": text,
                                                "final": False}))
        if self.barge_in == "pending":
            for strategy in self.interruptions:
                strategy.append_text(text)
            asyncio.ensure_future(self._check_barge_in())

    async def _check_barge_in(self) -> None:
        if self.barge_in != "pending":
            return
        if not self.playback.playing:
            self.barge_in = None  # the bot finished first: an ordinary turn
        elif any(strategy.should_interrupt() for strategy in self.interruptions):
            self.barge_in = "interrupted"
            await self.playback.stop(clear=True)
            logger.info("barge-in: caller interrupted the bot", extra=self._log())

    def _end_utterance(self, quiet_secs: float) -> None:
        """The turn ended ``quiet_secs`` after the caller's last speech."""
        utterance, self.utterance = self.utterance, None
        ended_at = time.monotonic()
        if self.barge_in == "pending" and self.playback.playing:
            utterance.cancel()  # a cough or an "uh-huh" over the bot: not a turn
            self.barge_in = None
            logger.info("speech during playback too short to interrupt; ignored", extra=self._log())
            return
        interrupted, self.barge_in = self.barge_in == "interrupted", None
        self.no_input.on_input()
        heard = (self.utterance_from, self.recorder.caller_samples if self.recorder is not None else 0)
        began = heard[0] / self.sample_rate if self.recorder is not None else self.history.since_start(ended_at)
        self.inputs.put_nowait(("utterance", asyncio.ensure_future(utterance.finish()), ended_at,
                                self.utterance_sensitive, heard, ended_at - quiet_secs,
                                (max(0.0, began), interrupted)))

    def _drop_utterance(self) -> None:
        if self.utterance is not None:
            self.utterance.cancel()
            self.utterance = None
        self.turns.reset()
        self.barge_in = None

    async def _on_key(self, key: str) -> None:
        self._cancel_timer("no_input")
        self.no_input.on_input()
        if self.bridged:
            await self.services.agent_bridge.caller_dtmf(self.call_id, key)
            return
        await self.playback.stop(clear=True)  # a key press interrupts the bot at once
        self._cancel_timer("digits")
        action = self.keypad.press(key, self.expecting_digits)
        if action is not None:
            self.inputs.put_nowait(("keypad", action))
        elif self.keypad.collecting:
            self._set_timer("digits", self.config.keypad.inter_digit_timeout_secs, self._keypad_timeout)

    def _keypad_timeout(self) -> None:
        action = self.keypad.timeout()
        if action is not None:
            self.inputs.put_nowait(("keypad", action))

    # ---- bot turns (one at a time, in order) ---------------------------------------------------------
    async def _work(self) -> None:
        try:
            if self.config.greeting:
                await self._bot_turn(self.processor.execute_action(self.call_id, self.config.greeting, "voice"))
            while True:
                self._arm_no_input()
                item = await self.inputs.get()
                self._cancel_timer("no_input")
                await self._handle_input(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("call pipeline failed", extra=self._log())
            await self.hang_up("internal error")

    async def _handle_input(self, item: tuple) -> None:
        kind = item[0]
        self._spoke_until = None
        if kind == "utterance":
            _, finishing, ended_at, sensitive, heard, self._spoke_until, (began, interrupted) = item
            text = await finishing
            self._recognised_at = time.monotonic()
            if not text:
                logger.info("utterance without words ignored", extra=self._log())
                return
            sensitive = sensitive or self.sensitive  # said before the question, it still answers it
            if self.recorder is not None and (sensitive or contains_pii(text)):
                self.recorder.silence_caller(*heard)  # also what was recorded before the question began
            self._line("caller", text, masked=sensitive)
            await self._notify({"event": "transcript", "speaker": "caller",
                                "text": "[redacted]" if sensitive else mask_pii(text), "final": True})
            said = {"text": text, "at": began, "sensitive": sensitive, "barge_in": interrupted}
            await self._bot_turn(self._message(text), ended_at, said)
        elif kind == "keypad":
            await self._keypad_input(item[1])
        elif kind == "silence":
            await self._silence()

    async def _keypad_input(self, action: KeypadAction) -> None:
        if action.kind == "repeat":
            await self.say(self.last_prompt)
        elif action.kind == "agent":
            self._line("keypad", "0 (agent)")
            said = {"text": "keypad: 0 (agent)", "at": self.history.since_start()}
            await self._bot_turn(self.processor.escalate(self.call_id, "keypad_zero", "voice"), time.monotonic(), said)
        else:
            self._line("keypad", action.digits, masked=self.sensitive)
            trigger = "/inform" + json.dumps({"digits": action.digits})
            said = {"text": f"keypad: {action.digits}", "at": self.history.since_start(), "sensitive": self.sensitive}
            await self._bot_turn(self._message(trigger), time.monotonic(), said)

    async def _silence(self) -> None:
        decision = self.no_input.on_silence()
        logger.info("no input from the caller", extra=self._log(silences=self.no_input.silences, then=decision))
        if decision == "reprompt":
            await self.say([self.no_input.reprompt_text, *self.last_prompt])
        elif decision == "handoff":
            await self._bot_turn(self.processor.escalate(self.call_id, "no_input", "voice"))
        else:
            await self.say([self.no_input.goodbye_text])
            await self.hang_up("no input from the caller")

    def _message(self, text: str):
        metadata = {"caller_number": self.caller_number, "external_call_id": self.external_id,
                    "protocol": self.protocol}
        return self.processor.handle_message(UserMessage(text, self.call_id, input_channel="voice", metadata=metadata))

    async def _bot_turn(self, replies: Awaitable[list[dict]], ended_at: float | None = None,
                        said: dict | None = None) -> None:
        """``said``: the caller's input the bot answers (text, at, sensitive, barge_in), for the call history."""
        messages = await replies
        self._answered_at = time.monotonic()
        tracker = await self.processor.get_tracker(self.call_id)
        self._expect(tracker.requested_slot)  # before speaking: a PIN said over the question is already masked
        decisions = self.history.decisions(tracker)
        if said is not None:
            await self.history.caller(**said, decisions=decisions)
        texts = [m["text"] for m in messages if m.get("text")]
        if texts:
            self.last_prompt = texts
            await self.say(texts, ended_at, None if said is not None else decisions)
        await self._after_turn(tracker)

    def _expect(self, requested: str | None) -> None:
        """How the caller's answer to the slot the bot asks for is heard, recognised and recorded."""
        self.expecting_digits = requested in self.config.digit_slots
        self.expected_digits = self.config.digit_lengths.get(requested) if self.expecting_digits else None
        self.sensitive = requested in self.processor.sensitive_slots
        if self.sensitive and self.utterance is not None:
            self.utterance_sensitive = True  # the caller started before the question
        self.turns.silence_secs = self.config.digits_end_of_turn_secs if self.expecting_digits \
            else self.config.end_of_turn_secs

    async def _after_turn(self, tracker) -> None:
        if tracker.paused and not self.paused:
            self.paused = True
            await self._handed_off()
        elif not tracker.paused:
            self.paused = False
        if _actions_of_last_turn(tracker) & set(self.config.hang_up_after):
            await self.hang_up("the bot ended the call")

    async def _handed_off(self) -> None:
        bridge = self.services.agent_bridge
        if bridge is not None:
            self._drop_utterance()
            self.bridged = True
            logger.info("call handed to the agent bridge", extra=self._log())
            await bridge.caller_joined(self.leg)
        elif self.config.handoff_without_bridge == "hang_up":
            await self.hang_up("handed off; no agent bridge is wired")
        else:
            logger.info("call paused for an agent; no agent bridge is wired, staying on the line", extra=self._log())

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
    def _arm_no_input(self) -> None:
        if self.paused or self.hang_up_reason:
            return
        self._set_timer("no_input", self.no_input.timeout_secs, self._no_input_due)

    def _no_input_due(self) -> None:
        if self.utterance is not None or self.playback.playing or self.keypad.collecting or not self.inputs.empty():
            self._arm_no_input()
        else:
            self.inputs.put_nowait(("silence",))

    def _set_timer(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer(name)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, callback)

    def _cancel_timer(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _log(self, **extra: Any) -> dict:
        return {"call_id": self.call_id, **extra}


def _actions_of_last_turn(tracker) -> set[str]:
    names = set()
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted):
            names.add(event.name)
    return names
