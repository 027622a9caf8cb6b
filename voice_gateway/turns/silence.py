"""End of turn by silence: the caller's turn ends after a stretch of quiet that follows speech.

A turn starts after ``start_secs`` of continuous speech (a click or a breath is not a turn); it ends
after ``silence_secs`` without speech. The silence is longer when the bot asked for digits, because
people pause between groups of digits ("four seven two ... nine one eight").
"""
from __future__ import annotations

from enum import Enum


class TurnEvent(Enum):
    STARTED = "started"
    ENDED = "ended"


class SilenceTurnDetector:
    def __init__(self, start_secs: float = 0.1, silence_secs: float = 0.5):
        self.start_secs = start_secs
        self.silence_secs = silence_secs
        self.in_turn = False
        self.speech_secs = 0.0  # speech heard in the current turn
        self._run = 0.0  # current run of speech (before the turn starts) or of silence (in a turn)

    @property
    def silence_secs_so_far(self) -> float:
        """Quiet since the caller last spoke in this turn (0 outside a turn)."""
        return self._run if self.in_turn else 0.0

    def update(self, speech: bool, window_secs: float) -> TurnEvent | None:
        if not self.in_turn:
            self._run = self._run + window_secs if speech else 0.0
            if self._run >= self.start_secs:
                self.in_turn, self.speech_secs, self._run = True, self._run, 0.0
                return TurnEvent.STARTED
            return None
        if speech:
            self.speech_secs += window_secs
            self._run = 0.0
            return None
        self._run += window_secs
        if self._run >= self.silence_secs:
            self.reset()
            return TurnEvent.ENDED
        return None

    def reset(self) -> None:
        self.in_turn, self.speech_secs, self._run = False, 0.0, 0.0
