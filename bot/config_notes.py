"""Notes on Rasa pipeline and policy options that Helpline does not use.

A Rasa ``config.yml`` tunes DIET's ``epochs``, Duckling's ``url`` or TED's
``constrain_similarities``. Helpline maps each component onto its own stack,
where most of these settings have no meaning. They are accepted, so a Rasa bot
trains unchanged, and never silently: each component with such options gets a
one-line note saying what Helpline does instead (shown by ``validate``,
``train``, ``test``, ``run`` and ``shell``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.training_data.yaml_reader import line_of

_CLASSIFIER = ("Helpline's intent classifier (fine-tuned MiniLM ensembled with a word/char n-gram model) "
               "sets its own training length and features")
_FEATURES = "features come from MiniLM sentence embeddings and word/char n-grams"
_ENTITY_TAGGER = "the CRF entity tagger trains with fixed features on the annotated examples"
_BUILTIN = ("entities are extracted offline by Helpline's built-in extractor (numbers, dates, money, emails, "
            "phone numbers, spoken digits); no Duckling server is called")
_TED = ("Helpline's generalizing policy (logistic regression over the last max_history dialogue states) "
        "trains to convergence")

# Options each component or policy actually reads; any other option gets a note.
USED_OPTIONS: dict[str, set[str]] = {
    "FallbackClassifier": {"threshold", "ambiguity_threshold"},
    "DucklingEntityExtractor": {"dimensions"},
    "BuiltinEntityExtractor": {"dimensions"},
    "SpacyEntityExtractor": {"dimensions"},
    "ResponseSelector": {"retrieval_intent"},
    "RulePolicy": {"core_fallback_threshold", "core_fallback_action_name", "enable_fallback_prediction"},
    "MemoizationPolicy": {"max_history"},
    "AugmentedMemoizationPolicy": {"max_history"},
    "TEDPolicy": {"max_history"},
    "GeneralizingPolicy": {"max_history"},
}

INSTEAD: dict[str, str] = {
    **dict.fromkeys(["DIETClassifier", "SklearnIntentClassifier", "LogisticRegressionClassifier",
                     "KeywordIntentClassifier", "MitieIntentClassifier", "SentenceEmbeddingIntentClassifier"],
                    _CLASSIFIER),
    **dict.fromkeys(["WhitespaceTokenizer", "SpacyTokenizer", "JiebaTokenizer", "MitieTokenizer",
                     "LanguageModelTokenizer", "SpacyNLP", "MitieNLP", "HFTransformersNLP", "CountVectorsFeaturizer",
                     "LexicalSyntacticFeaturizer", "SpacyFeaturizer", "ConveRTFeaturizer", "LanguageModelFeaturizer",
                     "MitieFeaturizer", "RegexFeaturizer"], _FEATURES),
    **dict.fromkeys(["CRFEntityExtractor", "MitieEntityExtractor"], _ENTITY_TAGGER),
    "SpacyEntityExtractor": "PERSON comes from a list of first names, other dimensions from the CRF entity tagger",
    "DucklingEntityExtractor": _BUILTIN,
    "BuiltinEntityExtractor": _BUILTIN,
    "RegexEntityExtractor": "regexes and lookup tables match case-insensitively on word boundaries",
    "EntitySynonymMapper": "synonyms map case-insensitively",
    "FallbackClassifier": "nlu_fallback uses threshold and ambiguity_threshold",
    "ResponseSelector": ("the intent classifier, trained on the full retrieval intents, picks the response; "
                         "it sets its own training length"),
    "RulePolicy": "rules use core_fallback_threshold, core_fallback_action_name and enable_fallback_prediction",
    "MemoizationPolicy": "memoization uses max_history",
    "AugmentedMemoizationPolicy": "memoization uses max_history",
    "TEDPolicy": _TED,
    "GeneralizingPolicy": _TED,
    "UnexpecTEDIntentPolicy": "Helpline does not predict action_unlikely_intent; the policy is left out",
}
ALWAYS_NOTED = {"UnexpecTEDIntentPolicy"}  # not used at all, options or not


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def option_notes(raw_items: Any, path: Path) -> list[tuple[str, int | None]]:
    """(note, line) for every pipeline or policy entry whose settings Helpline does not use."""
    notes = []
    for item in raw_items if isinstance(raw_items, list) else []:
        if not isinstance(item, dict) or "name" not in item:
            continue
        name = str(item["name"]).split(".")[-1]
        unused = [key for key in item if key != "name" and key not in USED_OPTIONS.get(name, set())]
        if not unused and name not in ALWAYS_NOTED:
            continue
        settings = ", ".join(f"{key}: {_shown(item[key])}" for key in unused)
        verb = "has" if len(unused) == 1 else "have"
        what = f"{name} {settings} {verb} no effect" if settings else f"{name} has no effect"
        notes.append((f"{what}: {INSTEAD.get(name, 'Helpline has no such setting')}", line_of(item)))
    return notes
