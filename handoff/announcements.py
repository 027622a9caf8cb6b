"""What the caller hears while queued: position and estimated wait, callback offer, reconnection."""
from __future__ import annotations

import math


def queue_position(position: int, estimated_wait: float) -> str:
    if estimated_wait <= 0:
        return "An agent will be with you in a moment."
    place = "next in line" if position == 1 else f"number {position} in line"
    if math.isinf(estimated_wait):
        return f"You are {place}. Our team will be with you as soon as someone is free."
    minutes = max(1, round(estimated_wait / 60))
    return f"You are {place}. The wait is about {minutes} minute{'s' if minutes != 1 else ''}."


CALLBACK_OFFER = ("Sorry for the wait. Press 1 and we will call you back on this number, press 2 to leave a "
                  "message, or stay on the line to keep your place.")
CALLBACK_TAKEN = "Thank you. We will call you back as soon as someone is free. Goodbye."
VOICEMAIL_PROMPT = "Please leave your message after the tone, then hang up."
REQUEUED = "Sorry, we lost the connection to your agent. You are first in line for the next one."
CONNECTING = "Connecting you now."


def transferring(queue: str) -> str:
    return f"I'm transferring you to our {queue} team. Please hold."
