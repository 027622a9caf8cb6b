"""Listening to the caller: voice activity, turn taking, recognition, barge-in and the keypad.

Caller audio goes through voice activity detection into the silence turn detector; an utterance is
recognised while the caller speaks (with an early guess when they pause) and, once the turn ends, is
queued as an input for the bot. Speech over the bot interrupts it only when the barge-in strategies
agree; a key press interrupts it at once. While an agent has the call, audio and keys go to the bridge.
"""
from __future__ import annotations

import asyncio
import logging
import time

from voice_gateway.agent_bridge import BRIDGE_SAMPLE_RATE
from voice_gateway.audio.resample import resample
from voice_gateway.frames import CallerAudio, KeyPressed, PlaybackMark
from voice_gateway.turns.complete_digits import holds_all_digits
from voice_gateway.turns.silence import TurnEvent
from voice_gateway.utterance import Utterance
from voice_gateway.vad import SAMPLE_RATE as VAD_RATE

logger = logging.getLogger(__name__)
PREROLL_WINDOWS = 10  # ~320 ms of audio before the turn start is confirmed, so the first syllable is kept


class CallerListening:
    """The ``CallSession``'s inbound side: it queues the caller's inputs for the bot turns."""

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
