"""What to do with search hits: answer, ask which article was meant, or admit not knowing."""
from __future__ import annotations

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


def choose(reply: str, candidates: list[str]) -> str | None:
    """The candidate a reply to "is that about A or B?" picks by position ("the first one", "the second")."""
    words = set(reply.lower().replace("'", "").split())
    if words & {"first", "former", "1st"}:
        return candidates[0]
    if words & {"second", "latter", "last", "2nd"} and len(candidates) > 1:
        return candidates[1]
    return None
