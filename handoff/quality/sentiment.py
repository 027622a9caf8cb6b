"""The caller's mood turn by turn, from a small word list.

Why a lexicon and not a model: the text comes from speech recognition of short phone turns
("no", "that's not right", "great, thanks"), where a handful of cue words carry the mood; a
word list scores a turn in microseconds inside the call's own process, is the same on every run,
explains itself (the words are in this file), and needs no model download. It only has to tell
a call that got better from one that got worse, not grade prose. Negation ("not happy") flips
the next cue word; intensifiers ("very") weigh it more.
"""
from __future__ import annotations

import re

POSITIVE = {
    "thanks": 1.0, "thank": 1.0, "great": 1.0, "perfect": 1.0, "excellent": 1.0, "wonderful": 1.0, "good": 0.6,
    "helpful": 0.8, "appreciate": 0.8, "awesome": 1.0, "happy": 0.8, "glad": 0.8, "lovely": 0.8, "fine": 0.3,
    "brilliant": 1.0, "resolved": 0.6, "fixed": 0.5, "yes": 0.2, "ok": 0.1, "okay": 0.1, "sorted": 0.5,
}
NEGATIVE = {
    "angry": 1.0, "annoyed": 0.9, "frustrated": 1.0, "frustrating": 1.0, "ridiculous": 1.0, "terrible": 1.0,
    "awful": 1.0, "useless": 1.0, "worst": 1.0, "bad": 0.7, "wrong": 0.6, "problem": 0.4, "complaint": 0.8,
    "complain": 0.8, "unacceptable": 1.0, "disappointed": 0.9, "upset": 0.9, "stupid": 1.0, "hate": 1.0,
    "lawyer": 0.8, "cancel": 0.5, "never": 0.4, "still": 0.2, "waiting": 0.3, "again": 0.3, "no": 0.2,
    "failed": 0.6, "broken": 0.7, "late": 0.5, "missing": 0.5, "rude": 1.0,
}
NEGATIONS = {"not", "no", "never", "isn't", "wasn't", "don't", "didn't", "doesn't", "can't", "won't", "nothing"}
INTENSIFIERS = {"very": 1.5, "really": 1.5, "so": 1.3, "extremely": 2.0, "totally": 1.5, "absolutely": 1.5}
_WORD = re.compile(r"[a-z']+")


def sentiment(text: str) -> float | None:
    """-1 (negative) .. 1 (positive); None when the turn has no cue word (neutral turns do not move the trend)."""
    words = _WORD.findall(text.lower())
    total, cues, flip, boost = 0.0, 0, False, 1.0
    for word in words:
        weight = POSITIVE.get(word, 0.0) - NEGATIVE.get(word, 0.0)
        if word in NEGATIONS and not weight:
            flip = True
            continue
        if word in INTENSIFIERS:
            boost = INTENSIFIERS[word]
            continue
        if weight:
            total += (-weight if flip else weight) * boost
            cues += 1
        flip, boost = False, 1.0
    if not cues:
        return None
    return max(-1.0, min(1.0, total / cues))


def trend(scores: list[float]) -> tuple[float, float] | None:
    """(change, last): the mean of the second half of the scored turns minus the first half's, and the
    last scored turn's mood; None with fewer than one scored turn."""
    if not scores:
        return None
    if len(scores) == 1:
        return 0.0, scores[0]
    half = len(scores) // 2
    first, second = scores[:half], scores[half:]
    return sum(second) / len(second) - sum(first) / len(first), scores[-1]
