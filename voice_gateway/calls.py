"""Run one call over any transport: frames from the serializer into a session, until the call ends.

Whatever goes wrong with one call (bad JSON, an unknown event, a wrong sample rate, an oversized or
truncated frame, sending faster than the rate limits allow, silence on the wire, a disconnect
mid-turn) ends that call with a logged reason; other calls are separate sessions and go on.

Each call's id (its conversation, recording, queue entry) is made here, ``call-<32 hex digits>``
(``bot.security.conversation_ids``): a client's own id (Twilio's callSid, the AudioSocket UUID, a Helpline ``call_id``) is kept only as the
call's external reference, so no client can choose, guess or join another caller's conversation.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from bot import observe
from bot.security.conversation_ids import new_call_id
from voice_gateway.frames import CallEnded, CallerAudio, CallStarted, OutboundFrame, ProtocolError
from voice_gateway.limits import TokenBucket
from voice_gateway.session import CallSession

logger = logging.getLogger(__name__)


class CallClosed(Exception):
    """The transport is gone (the other end disconnected)."""


async def run_call(services, serializer, receive: Callable[[float], Awaitable[str | bytes | None]],
                   send_raw: Callable[[str | bytes], Awaitable[None]], close: Callable[[str], Awaitable[None]],
                   protocol: str, caller_number: Callable[[CallStarted], str | None] | None = None,
                   transfer: Callable[[str], Awaitable[bool]] | None = None) -> str:
    """Serve one call; returns the reason it ended. ``receive(timeout)`` gives None when the peer closed.

    ``caller_number`` says who is calling from what the transport authenticated (a voice token's
    claim); without it the start message's own caller number is trusted (a signed Twilio stream, a
    SIP call from an allowed peer). ``transfer(uri)``, where the transport can hand a caller to
    another number (SIP REFER), is offered to the agent bridge through the call's leg.
    """
    session: CallSession | None = None
    config = services.config
    messages = TokenBucket(config.max_messages_per_sec)
    audio_seconds = TokenBucket(config.max_audio_speed)

    async def send(frame: OutboundFrame) -> None:
        message = serializer.serialize(frame)
        if message is not None:
            await send_raw(message)

    async def close_from_session(reason: str) -> None:
        await close(reason)

    reason = "connection closed"
    try:
        while True:
            timeout = config.start_timeout_secs if session is None else config.idle_timeout_secs
            try:
                message = await receive(timeout)
            except asyncio.TimeoutError:
                reason = ("no start message" if session is None else "nothing received") + f" for {timeout:g} s"
                break
            if message is None:
                reason = (session and session.hang_up_reason) or "caller disconnected"
                break
            if not messages.take():
                raise ProtocolError(f"more than {config.max_messages_per_sec:g} messages a second")
            ended = None
            for frame in serializer.deserialize(message):
                if isinstance(frame, CallStarted):
                    if session is not None:
                        raise ProtocolError("second start on one call")
                    if caller_number is not None:
                        frame = dataclasses.replace(frame, caller_number=caller_number(frame))
                    await services.ready()
                    session = CallSession(services, new_call_id(), frame, send, close_from_session,
                                          in_band_dtmf=getattr(serializer, "in_band_dtmf", False), protocol=protocol,
                                          transfer=transfer)
                    observe.conversation_id.set(session.call_id)  # this task serves this one call
                    services.call_opened(session)
                    await session.start()
                elif isinstance(frame, CallEnded):
                    ended = frame.reason
                elif session is not None:
                    if isinstance(frame, CallerAudio) and not audio_seconds.take(
                            len(frame.pcm16) / 2 / session.sample_rate):
                        raise ProtocolError(f"audio faster than {config.max_audio_speed:g} times real time")
                    await session.on_frame(frame)
            if ended:
                reason = ended
                break
    except ProtocolError as error:
        reason = f"protocol error: {error}"
        logger.warning("call ended on bad input", extra={"protocol": protocol, "reason": reason,
                                                          "call_id": session.call_id if session else None})
    except (ConnectionError, CallClosed):
        reason = "caller disconnected"
    finally:
        if session is not None:
            try:
                await session.close(reason)  # live until its records are closed: the call id stays taken
            finally:
                services.call_closed(session.call_id)
        else:
            logger.info("connection ended before a call started", extra={"protocol": protocol, "reason": reason})
        await close(reason)
    return reason
