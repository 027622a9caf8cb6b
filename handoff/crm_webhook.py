"""Optional: POST each handoff summary to a CRM, so the case exists before the agent picks up."""
from __future__ import annotations

import logging

import aiohttp

logger = logging.getLogger(__name__)


async def post_summary(url: str, summary: dict, timeout: float = 5.0) -> bool:
    """Best effort: a CRM outage is logged and never delays or drops the call."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(url, json={"event": "handoff", "summary": summary}) as response:
                if response.status >= 300:
                    logger.warning("CRM webhook refused the summary",
                                   extra={"status": response.status, "call_id": summary.get("call_id")})
                    return False
                return True
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("CRM webhook unreachable", extra={"error": str(error), "call_id": summary.get("call_id")})
        return False
