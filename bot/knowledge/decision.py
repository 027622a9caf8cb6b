"""What to do with search hits: answer, ask which article was meant, or admit not knowing."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.knowledge.config import KnowledgeConfig
from bot.knowledge.index import Hit

ANSWERED, CLARIFY, MISS = "answered", "clarify", "miss"


@dataclass(frozen=True)
class Decision:
    outcome: str
    hits: tuple[Hit, ...] = ()  # the article to read (answered) or the two to choose from (clarify)

    @property
    def score(self) -> float:
        return self.hits[0].score if self.hits else 0.0


def decide(hits: list[Hit], config: KnowledgeConfig) -> Decision:
    """Ask when two articles are both plausible and close; otherwise answer above the threshold."""
    if not hits or hits[0].score < config.clarify_threshold:
        return Decision(MISS, tuple(hits[:1]))
    if len(hits) > 1 and hits[1].score >= config.clarify_threshold \
            and hits[0].fused - hits[1].fused < config.clarify_margin:
        return Decision(CLARIFY, tuple(hits[:2]))
    if hits[0].score >= config.answer_threshold:
        return Decision(ANSWERED, (hits[0],))
    return Decision(MISS, (hits[0],))


_BY_POSITION = ({"first", "former", "1st"}, {"second", "latter", "last", "2nd"})
_BY_NUMBER = ({"one", "1"}, {"two", "2"})  # "number two", "option one"
_NOT_A_NAME = {"the", "a", "an", "one", "about", "that", "this", "it", "please", "i", "mean", "meant", "my", "to",
               "of", "for", "on", "in", "and", "or", "is", "was", "with", "your", "you", "how", "what", "do"}


def choose(reply: str, candidates: list[tuple[str, str]]) -> str | None:
    """The candidate (id, title) a reply to "is that about A or B?" picks.

    By position ("the first one", "the latter", "option two"), or by a word of one title that the
    other lacks ("the label one" for "Return policy or Getting a return label"). None when the reply
    picks neither, or both.
    """
    words = set(_words(reply))
    numbered = bool(words & {"number", "option"})
    for position, (ordinals, numbers) in enumerate(zip(_BY_POSITION, _BY_NUMBER)):
        if position < len(candidates) and (words & ordinals or (numbered and words & numbers)):
            return candidates[position][0]
    titles = [set(_words(title)) - _NOT_A_NAME for _, title in candidates]
    titles_with = Counter(word for title in titles for word in title)
    named = [candidate for candidate, title in zip(candidates, titles)
             if any(titles_with[word] == 1 for word in words & title)]
    return named[0][0] if len(named) == 1 else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
