"""What the load generator's callers say: scripted multi-turn conversations with the demo bot.

Each scenario is a list of steps, ``say:TEXT`` (spoken with the Piper voice) or ``dtmf:KEYS``
(keypad), ending with a goodbye the bot answers by hanging up. The caller's speech is synthesized
once and kept as WAV files in a cache folder (keyed by the text and the voice), so a second run
starts at once and every run plays the same audio.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from voice_gateway.audio.wav import read_wav, write_wav

SAMPLE_RATE = 8000  # phone audio: Twilio Media Streams and G.711 carry 8 kHz
CALLER_VOICE = {"engine": "piper", "threads": 1, "noise_scale": 0.0, "noise_w_scale": 0.0}


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[str, ...]  # "say:TEXT" or "dtmf:KEYS"
    ends_call: bool = True  # the last step makes the bot hang up


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("order_status", ("say:I'd like to check on my order.", "say:four seven two nine one eight",
                              "say:No thanks, goodbye.")),
    Scenario("balance_keyed_pin", ("say:What's my account balance?", "dtmf:2468#", "say:No thanks, goodbye.")),
    Scenario("knowledge_question", ("say:Do you ship to Canada?", "say:No thanks, goodbye.")),
    Scenario("help_then_goodbye", ("say:What can you help me with?", "say:Goodbye.")),
)}


def scenario_names() -> list[str]:
    return list(SCENARIOS)


class CallerAudio:
    """The caller's turns as 8 kHz PCM16, synthesized on first use and cached in ``cache_dir``."""

    def __init__(self, cache_dir: Path):
        self.cache_dir = Path(cache_dir)
        self._synthesizer = None
        self._memory: dict[str, bytes] = {}

    def pcm(self, text: str) -> bytes:
        if text not in self._memory:
            self._memory[text] = self._load_or_synthesize(text)
        return self._memory[text]

    def prepare(self, scenarios: list[Scenario]) -> int:
        """Synthesize every spoken step ahead of the calls (the CPU is then free for the server)."""
        texts = {step[4:] for scenario in scenarios for step in scenario.steps if step.startswith("say:")}
        for text in sorted(texts):
            self.pcm(text)
        return len(texts)

    def _path(self, text: str) -> Path:
        key = hashlib.sha256(repr((sorted(CALLER_VOICE.items()), SAMPLE_RATE, text)).encode()).hexdigest()[:24]
        return self.cache_dir / f"{key}.wav"

    def _load_or_synthesize(self, text: str) -> bytes:
        path = self._path(text)
        if path.is_file():
            return read_wav(path, SAMPLE_RATE)[0]
        if self._synthesizer is None:
            from voice_gateway.tts import create_synthesizer

            self._synthesizer = create_synthesizer(CALLER_VOICE)
        pcm = self._synthesizer.synthesize(text, SAMPLE_RATE)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        write_wav(partial, pcm, SAMPLE_RATE)
        partial.replace(path)  # whole or absent: another run reading the cache never sees half a file
        return pcm
