"""File names made from outside input (call ids, senders, article ids) stay inside their folder.

A caller, a carrier or an API client chooses such ids, so a name is first reduced to a safe
alphabet (letters, digits, ``_``, ``-``, ``.``; no leading dot, so no ``..`` and no hidden files),
then the joined path is resolved and checked to lie inside the folder (a symlinked folder is
followed once, as the operator set it up). Python's ``pathlib`` joins ``/abs`` or ``../x`` as
given, and no library in the stack offers the check, so it is these few lines.
"""
from __future__ import annotations

import re
from pathlib import Path

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class UnsafePath(ValueError):
    """A name that cannot be made into a file inside its folder."""


def safe_name(name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """``name`` reduced to a safe file name: unsafe characters become ``_``, leading dots go."""
    cleaned = _UNSAFE.sub("_", str(name)).lstrip(".")[:max_chars]
    if not cleaned.strip("_"):
        raise UnsafePath(f"{name!r} gives no usable file name")
    return cleaned


def safe_child(folder: Path, name: str, suffix: str = "") -> Path:
    """``folder/<safe name><suffix>``, guaranteed to lie inside ``folder``."""
    root = Path(folder).resolve()
    path = (root / f"{safe_name(name)}{suffix}").resolve()
    if path.parent != root:
        raise UnsafePath(f"{name!r} leads outside {root}")
    return path
