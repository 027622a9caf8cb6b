"""The bot's voice: sentence-by-sentence synthesis in a worker thread.

The first sentence plays while the next one is synthesized. The synthesizer caches the audio of
text it has spoken (fixed responses such as "What's your order number? ..." are the same every
call); ``prewarm`` fills that cache with the domain's fixed responses before the first call.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


class BotVoice:
    def __init__(self, synthesizer):
        self.synthesizer = synthesizer

    async def audio(self, sentence: str, sample_rate: int) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.synthesizer.synthesize, sentence, sample_rate)

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
        """Cache every sentence of ``texts`` as ``speak`` asks for it: whole, and the first one also split
        after its comma (how it is spoken when the text opens the bot's turn)."""
        for text in texts:
            sentences = self.sentences(text)
            for sentence in dict.fromkeys(first_clauses(sentences[0]) + sentences if sentences else []):
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
