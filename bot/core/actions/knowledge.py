"""``action_knowledge``: answer the caller's question from the knowledge articles.

Runs when the caller asks a question or the NLU falls back (rules in the
project decide). It reads out the best article when its calibrated score
clears the threshold, asks which one was meant when two are close, and
otherwise says it does not know and offers a person. What it did goes into the
tracker for the handoff summary: ``knowledge_article`` (the id read out, or
None), ``knowledge_score``, ``knowledge_outcome`` (answered, clarify, miss) and
``knowledge_skill`` (the article's team, or the best guess's on a miss).
"""
from __future__ import annotations

import asyncio
import logging

import bot.knowledge
from bot import observe
from bot.core.actions import ActionContext, bot_event
from bot.core.events import Event, FollowupAction, SlotSet
from bot.knowledge.config import KnowledgeConfig
from bot.knowledge.decision import ANSWERED, CLARIFY, Decision, choose, decide
from bot.knowledge.index import Hit
from bot.training_data.domain import HANDOFF_REASON_SLOT

logger = logging.getLogger(__name__)
ARTICLE_SLOT, SCORE_SLOT, OUTCOME_SLOT, SKILL_SLOT = (
    "knowledge_article", "knowledge_score", "knowledge_outcome", "knowledge_skill")
CANDIDATES_SLOT, CHOICES_SLOT = "knowledge_candidates", "knowledge_choices"
MISS_REASON = "knowledge_miss"


class ActionKnowledge:
    name = "action_knowledge"

    async def run(self, context: ActionContext) -> list[Event]:
        tracker = context.tracker
        message = tracker.latest_message
        text = (message.text or "") if message else ""
        base = bot.knowledge.current()
        config = base.config if base else KnowledgeConfig()
        hits = await asyncio.to_thread(base.search, text) if base else []  # to_thread: keeps the log context
        decision = _follow_up_choice(text, hits, tracker.slots, base) or decide(hits, config)
        logger.info("knowledge decision", extra={
            "sender_id": tracker.sender_id, "outcome": decision.outcome, "score": round(decision.score, 3),
            "articles": [h.article.id for h in decision.hits]})
        observe.count("knowledge", outcome=decision.outcome)
        return self._events(context, decision, config, message.intent_name if message else None)

    def _events(self, context: ActionContext, decision: Decision, config: KnowledgeConfig,
                intent: str | None) -> list[Event]:
        top = decision.hits[0] if decision.hits else None
        answered, clarify = decision.outcome == ANSWERED, decision.outcome == CLARIFY
        choices = " or ".join(h.article.title for h in decision.hits) if clarify else None
        events: list[Event] = [
            SlotSet(name=ARTICLE_SLOT, value=top.article.id if answered else None),
            SlotSet(name=SCORE_SLOT, value=round(decision.score, 4)),
            SlotSet(name=OUTCOME_SLOT, value=decision.outcome),
            SlotSet(name=SKILL_SLOT, value=top.article.skill if top else None),
            SlotSet(name=CANDIDATES_SLOT, value=[h.article.id for h in decision.hits] if clarify else None),
            SlotSet(name=CHOICES_SLOT, value=choices),
        ]
        events = [e for e in events if e.name in context.domain.slots]  # a project may declare only some
        if answered:
            return [bot_event({"text": top.article.answer}), *events, *_next(context, config.after_answer)]
        if clarify:
            return [*context.utter("utter_knowledge_clarify", knowledge_choices=choices), *events]
        if intent == "nlu_fallback" and config.fallback_action:
            return [*events, *_next(context, config.fallback_action)]  # the usual "say that again?" path
        reason = [SlotSet(name=HANDOFF_REASON_SLOT, value=MISS_REASON)] if config.offer_person else []
        return [*context.utter("utter_knowledge_miss"), *events, *reason, *_next(context, config.offer_person)]


def _follow_up_choice(text: str, hits: list[Hit], slots: dict, base) -> Decision | None:
    """After "is that about A or B?": the candidate the reply picks (by position or name), or the one it is closer to.

    None (decide afresh) when the reply confidently matches another article: a new question.
    """
    candidates = slots.get(CANDIDATES_SLOT) or []
    if slots.get(OUTCOME_SLOT) != CLARIFY or not candidates or base is None or base.index is None:
        return None
    offered = {a.id: a for a in base.index.articles if a.id in candidates}
    chosen = choose(text, [(id_, offered[id_].title) for id_ in candidates if id_ in offered])
    if chosen is not None:  # "the first one": the caller's choice is certain, whatever the search says
        return Decision(ANSWERED, (Hit(offered[chosen], 1.0, 0.0, 0.0, 0.0, text, "choice"),))
    if not hits or (hits[0].article.id not in candidates and hits[0].score >= base.config.answer_threshold):
        return None
    named = next((hit for hit in hits if hit.article.id in candidates), None)
    return Decision(ANSWERED, (named,)) if named else None


def _next(context: ActionContext, action: str | None) -> list[Event]:
    return [FollowupAction(name=action)] if action and context.domain.is_known_action(action) else []
