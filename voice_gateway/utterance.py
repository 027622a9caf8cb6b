"""One caller utterance streamed into a recognizer in a worker thread, partials reported as they come.

Audio is queued as it arrives and fed in order; whatever piled up while the recognizer was busy is
fed in one call, so recognition never falls behind the call by more than one step. Decodes (the
final one and the guesses) run through the process's ``RecognitionScheduler``.

When the caller pauses, ``speculate`` recognises what was said so far on a second recognizer while
the end-of-turn silence runs; if the caller does not speak again, the turn's transcript is ready
(or nearly) when the turn ends, instead of starting then. If they do, the guess is dropped. The
scheduler declines a guess while other decodes wait: then the turn is recognised when it ends.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from voice_gateway.asr.scheduler import RecognitionScheduler


class Utterance:
    def __init__(self, recognizer, on_partial: Callable[[str], None], scheduler: RecognitionScheduler):
        self.recognizer = recognizer
        self.scheduler = scheduler
        self.on_partial = on_partial
        self.audio = bytearray()  # everything fed so far, for a speculative recognition
        self.speculation: asyncio.Future | None = None
        self._guessing: asyncio.Future | None = None  # the latest speculation, dropped or not
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._pump = asyncio.ensure_future(self._feed())

    def feed(self, pcm16: bytes) -> None:
        self.audio += pcm16
        self._queue.put_nowait(pcm16)

    def can_speculate(self) -> bool:
        """One guess at a time: a dropped guess still running in its thread must finish first."""
        return self.speculation is None and (self._guessing is None or self._guessing.done())

    def speculate(self, recognizer) -> bool:
        """Recognise the audio so far on ``recognizer`` (a fresh one), in the background, if the
        scheduler has a decoder free; whether it started."""
        heard = len(self.audio)  # copied in the decode thread: a declined guess copies nothing

        def recognise() -> str:
            recognizer.accept(bytes(self.audio[:heard]))
            return recognizer.finish()

        guess = self.scheduler.speculate(recognise)
        if guess is not None:
            self.speculation = self._guessing = guess
        return guess is not None

    def drop_speculation(self) -> None:
        self.speculation = None  # the caller spoke again; the worker thread's result is ignored

    async def _feed(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            chunks = [await self._queue.get()]
            while not self._queue.empty():
                chunks.append(self._queue.get_nowait())
            done = chunks[-1] is None
            audio = b"".join(c for c in chunks if c)
            if audio:
                partial = await loop.run_in_executor(None, self.recognizer.accept, audio)
                if partial:
                    self.on_partial(partial)
            if done:
                return

    async def finish(self) -> str:
        """The final transcript: the speculative one if the caller said nothing since, else the stream's."""
        if self.speculation is not None:
            self._pump.cancel()
            return (await self.speculation).strip()
        self._queue.put_nowait(None)
        await self._pump
        return (await self.scheduler.decode(self.recognizer.finish)).strip()

    def cancel(self) -> None:
        self._pump.cancel()
