"""Bot turns: the caller's inputs answered one at a time, in the order they ended.

Each input (an utterance, a keypad entry, a silence) becomes one bot turn; the bot's replies are
spoken and the call history records both sides. The slot the bot asks for decides how the next answer
is heard and whether it is recorded; silences follow the no-input policy (reprompt, hand off or hang
up), and a call the bot hands to a person goes to the agent bridge.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable

from bot.core.events import ActionExecuted, UserUttered
from bot.core.processor import UserMessage
from bot.security.pii import contains_pii, mask_pii
from voice_gateway.keypad import KeypadAction

logger = logging.getLogger(__name__)


class BotTurns:
    """The ``CallSession``'s bot side: it takes the inputs that listening queued and speaks the replies."""

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
        self.queued = self.queued or tracker.paused
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

    def _arm_no_input(self) -> None:
        if self.paused or self.hang_up_reason:
            return
        self._set_timer("no_input", self.no_input.timeout_secs, self._no_input_due)

    def _no_input_due(self) -> None:
        if self.utterance is not None or self.playback.playing or self.keypad.collecting or not self.inputs.empty():
            self._arm_no_input()
        else:
            self.inputs.put_nowait(("silence",))



def _actions_of_last_turn(tracker) -> set[str]:
    names = set()
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted):
            names.add(event.name)
    return names
