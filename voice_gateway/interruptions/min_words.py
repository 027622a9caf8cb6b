"""Interrupt once the caller has said enough words; backchannels ("uh-huh", "okay") do not count."""
from __future__ import annotations

import re

from voice_gateway.interruptions.base import BaseInterruptionStrategy

BACKCHANNELS = {"uh", "huh", "uh-huh", "uhhuh", "mhm", "mm", "hmm", "um", "ok", "okay", "yeah", "yes", "right",
                "sure", "ah", "oh", "aha"}


class MinWordsInterruptionStrategy(BaseInterruptionStrategy):
    def __init__(self, min_words: int):
        self.min_words = min_words
        self._text = ""

    def append_text(self, text: str) -> None:
        self._text = text

    def should_interrupt(self) -> bool:
        words = [w for w in re.findall(r"[a-z0-9'-]+", self._text.lower()) if w.strip("'-") not in BACKCHANNELS]
        return len(words) >= self.min_words

    def reset(self) -> None:
        self._text = ""
