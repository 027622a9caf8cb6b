"""Entity extractors; run them in priority order and combine with ``merge_entities``."""
from bot.nlu.extractors.builtin import DIMENSIONS, BuiltinEntityExtractor
from bot.nlu.extractors.crf import CRFEntityExtractor
from bot.nlu.extractors.regex_lookup import RegexEntityExtractor
from bot.nlu.extractors.synonyms import EntitySynonymMapper

__all__ = [
    "DIMENSIONS",
    "BuiltinEntityExtractor",
    "CRFEntityExtractor",
    "EntitySynonymMapper",
    "RegexEntityExtractor",
]
