"""Who is calling: the caller's number from an allowed peer's P-Asserted-Identity or From.

Only requests from the allowlist reach this point, so the identity the trunk or PBX asserts is
trusted; a request from anywhere else has already been refused. The number is what the CRM looks
callers up by: a ``tel:`` number or the digits of a SIP URI's user part (``+`` allowed first);
anything else (``sip:alice@...``) gives no number.
"""
from __future__ import annotations

import re

from aiosipua import SipRequest, parse_address

_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_TEL = re.compile(r"<?tel:([^;>]+)", re.IGNORECASE)  # tel: URIs are numbers, not SIP URIs


def caller_number(invite: SipRequest) -> str | None:
    for header in ("p-asserted-identity", "from"):
        for value in invite.headers.get(header) or []:
            number = _number_of(value.split(",")[0])
            if number:
                return number
    return None


def _number_of(value: str) -> str | None:
    tel = _TEL.search(value)
    if tel:
        user = tel.group(1)
    else:
        try:
            user = parse_address(value.strip()).uri.user or ""
        except (ValueError, IndexError):
            return None
    user = user.split(";")[0].replace("-", "").replace(".", "")
    return user if _NUMBER.fullmatch(user) else None
