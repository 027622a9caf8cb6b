"""The NLU pipeline: text in, Rasa's parse result out.

Intent: the sentence-embedding classifier on text whose spoken numbers are
normalized; retrieval intents (``faq/payment_methods``) are ranked by their
base name and the sub-intent goes to Rasa's ``response_selector`` block (see
``response_selector``). Entities: trained CRF, regexes/lookups, the built-in
extractor (Helpline's offline stand-in for Duckling), then synonyms. Below the
fallback threshold (or between two close intents) the intent becomes
``nlu_fallback``.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable

from bot.config import BotConfig
from bot.nlu.entities import Entity, merge_entities
from bot.nlu.extractors.builtin import DIMENSIONS, BuiltinEntityExtractor
from bot.nlu.extractors.crf import CRFEntityExtractor
from bot.nlu.extractors.person_names import PERSON, PersonNameExtractor
from bot.nlu.extractors.regex_lookup import RegexEntityExtractor
from bot.nlu.extractors.synonyms import EntitySynonymMapper
from bot.nlu.intent_classifier import IntentClassifier
from bot.nlu.normalizer import normalize_digits
from bot.nlu.response_selector import ResponseSelector
from bot.training_data.nlu_data import NLUData

logger = logging.getLogger(__name__)
FALLBACK_INTENT = "nlu_fallback"
RANKING_LENGTH = 10
Progress = Callable[[str, int, int], None]


class NLUInterpreter:
    def __init__(self, classifier: IntentClassifier | None, crf: CRFEntityExtractor | None,
                 regex: RegexEntityExtractor | None, builtin: BuiltinEntityExtractor | None,
                 synonyms: EntitySynonymMapper, fallback_threshold: float | None, ambiguity_threshold: float,
                 selector: ResponseSelector | None = None, person: PersonNameExtractor | None = None):
        self.classifier, self.crf, self.regex, self.builtin = classifier, crf, regex, builtin
        self.selector, self.person = selector, person
        self.synonyms = synonyms
        self.fallback_threshold = fallback_threshold
        self.ambiguity_threshold = ambiguity_threshold

    # --- training ------------------------------------------------------------------
    @classmethod
    def train(cls, data: NLUData, config: BotConfig, progress: Progress = lambda *_: None,
              responses: dict[str, list[dict]] | None = None) -> "NLUInterpreter":
        """Train on ``data``; ``responses`` (the domain's) give the response selector its texts."""
        fallback = config.component("FallbackClassifier")
        classifier = None
        if len(data.intents) >= 2:
            classifier = IntentClassifier()
            classifier.train([normalize_digits(e.text) for e in data.examples], [e.intent for e in data.examples],
                             progress=progress)
        elif data.intents:
            logger.warning("only one intent has examples; every message gets it", extra={"intent": data.intents[0]})
        crf = None
        if data.entity_names and config.component("DIETClassifier", "CRFEntityExtractor", "SpacyEntityExtractor",
                                                  "MitieEntityExtractor", "SentenceEmbeddingIntentClassifier"):
            progress("entity tagger", 0, 1)
            crf = CRFEntityExtractor()
            crf.train(data.examples, data.synonyms, data.regexes, data.lookups)
            progress("entity tagger", 1, 1)
        regex = None
        if config.component("RegexEntityExtractor") and (data.regexes or data.lookups):
            regex = RegexEntityExtractor()
            regex.train(data.examples, data.synonyms, data.regexes, data.lookups)
        synonyms = EntitySynonymMapper()
        synonyms.train(data.examples, data.synonyms)
        person = None
        if _wants_person_names(config):
            person = PersonNameExtractor()
            person.train(data.examples)
        return cls(classifier, crf, regex, _builtin_extractor(config), synonyms,
                   None if fallback is None else float(fallback.get("threshold", 0.3)),
                   float((fallback or {}).get("ambiguity_threshold", 0.1)),
                   ResponseSelector.for_labels(data.intents, responses), person)

    # --- parsing -------------------------------------------------------------------
    def parse(self, text: str) -> dict:
        scores = self.classifier.predict(normalize_digits(text)) if self.classifier is not None else []
        selection = None
        if self.selector is not None:
            scores, selection = self.selector.split(scores)
        ranking = [{"name": name, "confidence": round(float(p), 6)} for name, p in scores]
        intent = dict(ranking[0]) if ranking else {"name": None, "confidence": 0.0}
        entities = self.extract_entities(text, intent["name"])
        if self._is_fallback(ranking):
            intent = {"name": FALLBACK_INTENT, "confidence": self.fallback_threshold}
            ranking = [intent, *ranking]
        result = {"text": text, "intent": intent, "entities": [e.to_dict() for e in entities],
                  "intent_ranking": ranking[:RANKING_LENGTH]}
        if selection is not None:
            result["response_selector"] = selection
            chosen = selection.get(intent["name"], {}).get("response", {}).get("intent_response_key")
            if chosen:
                intent["full_retrieval_intent_name"] = chosen
        return result

    def _is_fallback(self, ranking: list[dict]) -> bool:
        if self.fallback_threshold is None or not ranking:
            return False
        top = ranking[0]["confidence"]
        second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
        return top < self.fallback_threshold or top - second < self.ambiguity_threshold

    def extract_entities(self, text: str, intent: str | None) -> list[Entity]:
        """Every extractor's entities, merged; the trained tagger also reads the most likely intent
        (as DIET tags entities with the same network that classifies the intent)."""
        found = [self.crf.extract(text, intent)] if self.crf else []
        found += [extractor.extract(text) for extractor in (self.regex, self.builtin, self.person) if extractor]
        return self.synonyms.process(merge_entities(*found))

    # --- persistence ---------------------------------------------------------------
    def persist(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        parts = {"classifier": self.classifier, "crf": self.crf, "regex": self.regex, "builtin": self.builtin,
                 "synonyms": self.synonyms, "selector": self.selector, "person": self.person}
        for name, part in parts.items():
            if part is not None:
                part.persist(directory / name)
        meta = {"parts": [n for n, p in parts.items() if p is not None],
                "fallback_threshold": self.fallback_threshold, "ambiguity_threshold": self.ambiguity_threshold}
        (directory / "nlu.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, directory: Path) -> "NLUInterpreter":
        meta = json.loads((directory / "nlu.json").read_text())
        parts = set(meta["parts"])

        def load(name: str, kind):
            return kind.load(directory / name) if name in parts else None

        return cls(load("classifier", IntentClassifier), load("crf", CRFEntityExtractor),
                   load("regex", RegexEntityExtractor), load("builtin", BuiltinEntityExtractor),
                   load("synonyms", EntitySynonymMapper) or EntitySynonymMapper(),
                   meta["fallback_threshold"], meta["ambiguity_threshold"], load("selector", ResponseSelector),
                   load("person", PersonNameExtractor))


def _wants_person_names(config: BotConfig) -> bool:
    """spaCy's PERSON, asked for by ``SpacyEntityExtractor`` (all of spaCy's dimensions when none are listed)."""
    component = config.component("SpacyEntityExtractor")
    return component is not None and PERSON in (component.get("dimensions") or [PERSON])


def _builtin_extractor(config: BotConfig) -> BuiltinEntityExtractor | None:
    """Duckling's dimensions that Helpline implements offline; the rest are reported and skipped."""
    component = config.component("DucklingEntityExtractor", "BuiltinEntityExtractor")
    if component is None:
        return None
    wanted = component.get("dimensions") or list(DIMENSIONS)
    supported = [d for d in wanted if d in DIMENSIONS]
    if len(supported) < len(wanted):
        logger.warning("unsupported entity dimensions skipped",
                       extra={"dimensions": sorted(set(wanted) - set(supported))})
    return BuiltinEntityExtractor(supported) if supported else None
