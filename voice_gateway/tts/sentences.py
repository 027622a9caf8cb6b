"""Splitting a reply into sentences, so the first one plays while the rest is synthesised."""
from __future__ import annotations

import re

_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "approx", "dept", "ext", "ref"}
# A sentence ends at . ! ? (and closing quotes/brackets) followed by space and a new sentence.
_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """ "Sure. Your order shipped." -> ["Sure.", "Your order shipped."]; abbreviations stay whole."""
    sentences: list[str] = []
    start = 0
    for boundary in _BOUNDARY_RE.finditer(text):
        before = text[start:boundary.start()].rstrip(".!?\"')]").split()
        if before and before[-1].lower().rstrip(".") in _ABBREVIATIONS:
            continue
        sentences.append(text[start:boundary.start()].strip())
        start = boundary.end()
    sentences.append(text[start:].strip())
    return [sentence for sentence in sentences if sentence]
