"""The gateway's side of a handed-off call: what the agent bridge can do to the caller (see agent_bridge)."""
from __future__ import annotations

from voice_gateway.audio.resample import StreamResampler


class GatewayCallerLeg:
    def __init__(self, session):
        self._session = session
        self.call_id: str = session.call_id
        self.caller_number: str | None = session.caller_number
        self._resamplers: dict[int, StreamResampler] = {}

    async def say(self, text: str) -> None:
        await self._session.stop_hold()
        await self._session.say([text])

    async def play_hold(self) -> None:
        self._session.start_hold()

    async def send_agent_audio(self, pcm16: bytes, sample_rate: int) -> None:
        await self._session.stop_hold()
        if sample_rate not in self._resamplers:
            self._resamplers[sample_rate] = StreamResampler(sample_rate, self._session.sample_rate)
        await self._session.playback.send_now(self._resamplers[sample_rate].process(pcm16))

    async def hang_up(self, reason: str) -> None:
        await self._session.hang_up(reason)

    async def transfer(self, uri: str) -> bool:
        """Hand the caller to ``uri`` (SIP REFER); False where the transport cannot, or the target refused."""
        if self._session.transfer is None:
            return False
        await self._session.stop_hold()
        return await self._session.transfer(uri)
