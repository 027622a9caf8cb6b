"""The bot's voice: sentence-by-sentence synthesis in a worker thread, with the audio of repeated text cached.

Fixed responses ("What's your order number? ...") are the same text every call, so their audio is
cached (least recently used out); replies with order details miss the cache and are synthesized.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator


class SpeechCache:
    def __init__(self, synthesizer, entries: int = 512):
        self.synthesizer = synthesizer
        self.entries = entries
        self._audio: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self.hits = self.misses = 0

    async def audio(self, sentence: str, sample_rate: int) -> bytes:
        key = (sentence, sample_rate)
        if key in self._audio:
            self._audio.move_to_end(key)
            self.hits += 1
            return self._audio[key]
        self.misses += 1
        loop = asyncio.get_running_loop()
        pcm = await loop.run_in_executor(None, self.synthesizer.synthesize, sentence, sample_rate)
        self._audio[key] = pcm
        while len(self._audio) > self.entries:
            self._audio.popitem(last=False)
        return pcm

    def sentences(self, text: str) -> list[str]:
        return [s for s in self.synthesizer.sentences(text) if s.strip()]

    async def speak(self, texts: list[str], sample_rate: int) -> AsyncIterator[bytes]:
        """Audio of each sentence in order; the next sentence is synthesized while this one plays."""
        sentences = [s for text in texts for s in self.sentences(text)]
        if not sentences:
            return
        sentences[:1] = first_clauses(sentences[0])
        pending = asyncio.ensure_future(self.audio(sentences[0], sample_rate))
        try:
            for index in range(len(sentences)):
                pcm = await pending
                if index + 1 < len(sentences):
                    pending = asyncio.ensure_future(self.audio(sentences[index + 1], sample_rate))
                yield pcm
        finally:
            pending.cancel()

    async def prewarm(self, texts: list[str], sample_rate: int) -> None:
        for text in texts:
            for sentence in self.sentences(text):
                await self.audio(sentence, sample_rate)


def first_clauses(sentence: str, min_chars: int = 50) -> list[str]:
    """A long first sentence split after its first comma: the caller hears the bot sooner."""
    head, comma, rest = sentence.partition(", ")
    if len(sentence) < min_chars or not comma or len(head) < 12 or len(rest) < 12:
        return [sentence]
    return [head + ",", rest]


def fixed_response_texts(domain) -> list[str]:
    """The domain's response texts without {slot} placeholders: the same audio every call."""
    return [variation["text"] for variations in domain.responses.values() for variation in variations
            if isinstance(variation.get("text"), str) and "{" not in variation["text"]]
