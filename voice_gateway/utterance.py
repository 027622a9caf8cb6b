"""One caller utterance streamed into a recognizer in a worker thread, partials reported as they come.

Audio is queued as it arrives and fed in order; whatever piled up while the recognizer was busy is
fed in one call, so recognition never falls behind the call by more than one step.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable


class Utterance:
    def __init__(self, recognizer, on_partial: Callable[[str], None]):
        self.recognizer = recognizer
        self.on_partial = on_partial
        self.partial = ""
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._pump = asyncio.ensure_future(self._feed())

    def feed(self, pcm16: bytes) -> None:
        self._queue.put_nowait(pcm16)

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
                    self.partial = partial
                    self.on_partial(partial)
            if done:
                return

    async def finish(self) -> str:
        """The final transcript, once all queued audio has been recognised."""
        self._queue.put_nowait(None)
        await self._pump
        return (await asyncio.get_running_loop().run_in_executor(None, self.recognizer.finish)).strip()

    def cancel(self) -> None:
        self._pump.cancel()
