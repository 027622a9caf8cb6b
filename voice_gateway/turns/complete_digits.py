"""End a digits turn early once the caller has said every digit the slot takes.

A digits turn waits out a long silence because people pause between groups ("four seven two ...
nine one eight"). When the recognition made during the pause already holds as many digits as the
slot needs (six for an order number, four for a PIN), the ordinary end-of-turn silence is enough.
"""
from __future__ import annotations

import asyncio

from voice_gateway.asr.digits import digit_count


def holds_all_digits(speculation: asyncio.Future | None, length: int) -> bool:
    """Whether a finished early recognition has at least ``length`` digits."""
    if speculation is None or not speculation.done() or speculation.cancelled() or speculation.exception():
        return False
    return digit_count(speculation.result()) >= length
