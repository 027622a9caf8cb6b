"""The automatic quality checks of a finished call, read from its record alone.

Each check of ``ScorecardConfig`` passes or fails; the score is the passed checks' weight over
the total, 0..100. Flags say why a supervisor should listen: every failed check, each configured
phrase heard in either leg (or written in the agent's notes), and ``review`` below the threshold.
Silences are measured from the record's timestamps: the gap between a bot line and the caller's
next words, less the time the bot needed to say its line (estimated from its length).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from handoff.quality.config import CHECKS, ScorecardConfig
from handoff.quality.sentiment import trend
from handoff.records.model import CONTAINED, CallRecord

BOT_CHARS_PER_SEC = 15.0  # Piper at its default pace


@dataclass
class Scorecard:
    score: float
    checks: dict[str, bool]            # check -> passed (weighted checks only)
    flags: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


def weighted_score(checks: dict[str, bool], config: ScorecardConfig) -> float:
    """0..100 from the passed checks' weights (a manual review scores the same way)."""
    weights = {name: config.weights.get(name, 0) for name in checks}
    total = sum(weights.values())
    return round(100.0 * sum(w for name, w in weights.items() if checks[name]) / total, 1) if total else 100.0


def score_call(record: CallRecord, config: ScorecardConfig) -> Scorecard:
    results = {
        "greeting": _greeted(record, config),
        "verified_first": _verified_first(record, config),
        "resolved": record.outcome == CONTAINED,
        "silence": _longest_silence(record) <= config.long_silence_secs,
        "talk_over": sum(1 for t in record.turns if t.barge_in) <= config.max_barge_ins,
        "sentiment": _mood_held(record, config),
    }
    checks = {name: results[name] for name in CHECKS if config.weights.get(name, 0) > 0}
    score = weighted_score(checks, config)
    flags = [f"failed:{name}" for name, passed in checks.items() if not passed]
    flags += [f"phrase:{phrase}" for phrase in phrases_heard(record, config.phrases)]
    if score < config.review_below:
        flags.append("review")
    return Scorecard(score, checks, flags, {"longest_silence_secs": round(_longest_silence(record), 1)})


def _greeted(record: CallRecord, config: ScorecardConfig) -> bool:
    """A greeting action ran before the caller's first words."""
    greeting = set(config.greeting_actions)
    for turn in record.turns:
        if turn.speaker == "caller":
            return False
        if greeting.intersection(turn.actions):
            return True
    return False


def _verified_first(record: CallRecord, config: ScorecardConfig) -> bool:
    """No account action before the verified slot was set (a call that read no account data passes)."""
    verified = False
    account = set(config.account_actions)
    for turn in record.turns:
        if turn.slots.get(config.verified_slot) is True:
            verified = True
        if account.intersection(turn.actions):
            # Within one turn the form sets the slot before the account action runs.
            return verified
    return True


def _longest_silence(record: CallRecord) -> float:
    longest = 0.0
    for before, after in zip(record.turns, record.turns[1:]):
        if before.speaker == "bot" and after.speaker == "caller":
            speaking = len(before.text) / BOT_CHARS_PER_SEC
            longest = max(longest, after.at - before.at - speaking)
    return longest


def _mood_held(record: CallRecord, config: ScorecardConfig) -> bool:
    scores = [t.sentiment for t in record.turns if t.speaker == "caller" and t.sentiment is not None]
    moved = trend(scores)
    if moved is None:
        return True
    change, last = moved
    return change >= -config.sentiment_drop and last >= 0


def phrases_heard(record: CallRecord, phrases: list[str]) -> list[str]:
    """The configured phrases said by anyone on the call or written in the agent's notes, in config order."""
    texts = [" ".join(re.findall(r"[a-z0-9']+", t.text.lower())) for t in record.turns]
    texts.append(" ".join(re.findall(r"[a-z0-9']+", (record.notes or "").lower())))
    found = []
    for phrase in phrases:
        pattern = re.compile(r"\b" + re.escape(phrase) + r"\b")
        if any(pattern.search(text) for text in texts):
            found.append(phrase)
    return found
