"""Bot audio to the caller in real time: 20 ms frames sent a little ahead of the far end's playout.

Pacing (instead of sending a whole answer at once) keeps the far end's buffer short, so barge-in
stops the bot within about ``lead_secs`` on every protocol; where the protocol has one, a ``clear``
also drops what is already buffered. ``playing`` stays true until the far end has played the last
frame sent.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from voice_gateway.frames import BotAudio, ClearPlayback, Mark, OutboundFrame

FRAME_SECS = 0.02


class Playback:
    def __init__(self, send: Callable[[OutboundFrame], Awaitable[None]], sample_rate: int, lead_secs: float = 0.1,
                 on_audio: Callable[[bytes], None] = lambda pcm: None):
        self.send = send
        self.sample_rate = sample_rate
        self.lead_secs = lead_secs
        self.on_audio = on_audio
        self.frame_bytes = int(sample_rate * FRAME_SECS) * 2
        self._task: asyncio.Task | None = None
        self._ends_at = 0.0  # monotonic time when the far end finishes playing what was sent
        self._marks = 0

    @property
    def playing(self) -> bool:
        return (self._task is not None and not self._task.done()) or time.monotonic() < self._ends_at

    async def play(self, audio: AsyncIterator[bytes], on_first_frame: Callable[[], None] = lambda: None) -> bool:
        """Send the audio paced; True when all of it was played, False when stopped (barge-in)."""
        await self.stop(clear=False)
        self._task = asyncio.ensure_future(self._send_paced(audio, on_first_frame))
        try:
            await self._task
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise
            return False  # stop() cancelled the sending, not our caller
        return True

    async def _send_paced(self, audio: AsyncIterator[bytes], on_first_frame: Callable[[], None]) -> None:
        first = True
        async for pcm in audio:
            for start in range(0, len(pcm), self.frame_bytes):
                frame = pcm[start:start + self.frame_bytes]
                now = time.monotonic()
                self._ends_at = max(self._ends_at, now)
                ahead = self._ends_at - now
                if ahead > self.lead_secs:
                    await asyncio.sleep(ahead - self.lead_secs)
                await self.send(BotAudio(frame))
                self.on_audio(frame)
                if first:
                    on_first_frame()
                    first = False
                self._ends_at += len(frame) / 2 / self.sample_rate
        self._marks += 1
        await self.send(Mark(f"end-{self._marks}"))
        remaining = self._ends_at - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)

    async def stop(self, clear: bool = True) -> bool:
        """Stop sending; ``clear`` also tells the far end to drop its buffer. True if something was playing."""
        was_playing = self.playing
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._ends_at = 0.0
        if clear and was_playing:
            await self.send(ClearPlayback())
        return was_playing

    async def send_now(self, pcm: bytes) -> None:
        """Audio that arrives in real time already (an agent's voice): no pacing, no queue."""
        await self.send(BotAudio(pcm))
        self.on_audio(pcm)
