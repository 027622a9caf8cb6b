"""Agent desk passwords, kept as salted scrypt hashes so that config.yml need not hold a password.

An agent in ``helpline: handoff: agents:`` gives ``password_hash`` (what ``helpline desk
hash-password`` prints). A plain ``password`` still works for a quick setup: it is hashed when the
config loads, and a warning says to replace it. An agent with neither cannot log in.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCHEME = "scrypt"
COST, BLOCK_SIZE, PARALLEL = 2 ** 14, 8, 1  # about 40 ms and 16 MB a check on one core


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$digest`` (salt and digest in URL-safe base64)."""
    salt = os.urandom(16)
    digest = _scrypt(password, salt, COST, BLOCK_SIZE, PARALLEL)
    return "$".join([SCHEME, str(COST), str(BLOCK_SIZE), str(PARALLEL), _b64(salt), _b64(digest)])


def check_hash(stored: str) -> None:
    """Raise ValueError, saying what is wrong, unless ``stored`` is a hash this module wrote."""
    _parse(stored)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``, in time that does not depend on where they differ."""
    try:
        cost, block_size, parallel, salt, digest = _parse(stored)
    except ValueError:
        return False
    return hmac.compare_digest(_scrypt(password, salt, cost, block_size, parallel, len(digest)), digest)


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError(f"not a password hash from `helpline desk hash-password` ({SCHEME}$N$r$p$salt$digest)")
    try:
        cost, block_size, parallel = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        raise ValueError("password hash: N, r and p must be numbers, salt and digest base64") from None
    if cost < 2 or cost & (cost - 1) or block_size < 1 or parallel < 1 or len(digest) < 16:
        raise ValueError("password hash: N must be a power of 2, r and p positive, the digest 16 bytes or more")
    return cost, block_size, parallel, salt, digest


def _scrypt(password: str, salt: bytes, cost: int, block_size: int, parallel: int, length: int = 32) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=cost, r=block_size, p=parallel, dklen=length,
                          maxmem=256 * block_size * cost + 2 ** 20)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None
