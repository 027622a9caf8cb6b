"""``config.yml``: Rasa's ``language``/``pipeline``/``policies`` plus Helpline's own section.

Rasa component names are accepted and mapped onto Helpline's fixed NLU and
dialogue stack; an unknown name is an error that names it, so a typo never
silently trains a different bot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config_notes import option_notes
from bot.training_data.yaml_reader import TrainingDataError, line_of, plain, read_yaml_file

# Rasa NLU components and what Helpline does for each (shown by `helpline train`).
NLU_COMPONENTS = {
    **dict.fromkeys(
        ["WhitespaceTokenizer", "SpacyTokenizer", "JiebaTokenizer", "MitieTokenizer", "LanguageModelTokenizer",
         "SpacyNLP", "MitieNLP", "HFTransformersNLP"],
        "tokenizing is part of Helpline's featurizer"),
    **dict.fromkeys(
        ["CountVectorsFeaturizer", "LexicalSyntacticFeaturizer", "SpacyFeaturizer", "ConveRTFeaturizer",
         "LanguageModelFeaturizer", "MitieFeaturizer", "RegexFeaturizer"],
        "features come from MiniLM sentence embeddings and word/char n-grams"),
    **dict.fromkeys(
        ["DIETClassifier", "SklearnIntentClassifier", "LogisticRegressionClassifier", "KeywordIntentClassifier",
         "MitieIntentClassifier", "SentenceEmbeddingIntentClassifier"],
        "intent classifier on sentence embeddings (+ CRF entity tagger)"),
    **dict.fromkeys(["CRFEntityExtractor", "MitieEntityExtractor"], "trained CRF entity tagger on annotated examples"),
    "SpacyEntityExtractor": "PERSON from a list of first names; other entities from the trained CRF entity tagger",
    "DucklingEntityExtractor": "built-in offline extractor for numbers, dates, money, emails, phone numbers",
    "BuiltinEntityExtractor": "built-in offline extractor for numbers, dates, money, emails, phone numbers",
    "RegexEntityExtractor": "regex and lookup-table entity extractor",
    "EntitySynonymMapper": "entity synonym mapper",
    "FallbackClassifier": "nlu_fallback below the confidence threshold",
    "ResponseSelector": "responses of retrieval intents chosen by the intent classifier",
}
POLICIES = {
    "RulePolicy": "rules",
    "MemoizationPolicy": "memoization",
    "AugmentedMemoizationPolicy": "memoization",
    "TEDPolicy": "generalizing",
    "UnexpecTEDIntentPolicy": "ignored",
    "GeneralizingPolicy": "generalizing",
}
DEFAULT_PIPELINE = [{"name": "SentenceEmbeddingIntentClassifier"}, {"name": "CRFEntityExtractor"},
                    {"name": "RegexEntityExtractor"}, {"name": "BuiltinEntityExtractor"},
                    {"name": "EntitySynonymMapper"},
                    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1}]
DEFAULT_POLICIES = [{"name": "MemoizationPolicy"}, {"name": "RulePolicy"}, {"name": "TEDPolicy", "max_history": 5}]


@dataclass
class BotConfig:
    """The parsed ``config.yml`` of a bot project."""

    path: Path
    language: str = "en"
    pipeline: list[dict] = field(default_factory=lambda: list(DEFAULT_PIPELINE))
    policies: list[dict] = field(default_factory=lambda: list(DEFAULT_POLICIES))
    helpline: dict[str, Any] = field(default_factory=dict)  # as read, positions kept (helpline.config_schema)
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line
    notes: list[tuple[str, int | None]] = field(default_factory=list)  # options Helpline does not use, with lines

    def component(self, *names: str) -> dict | None:
        """The first pipeline component with one of these names."""
        return next((c for c in self.pipeline if c["name"] in names), None)

    def policy(self, kind: str) -> dict | None:
        """The first policy of a Helpline kind (``rules``, ``memoization``, ``generalizing``)."""
        return next((p for p in self.policies if POLICIES[p["name"]] == kind), None)


def _named_list(raw: Any, path: Path, section: str, known: dict, kind: str, key_line: int | None) -> list[dict]:
    """``key_line``: the section key's line, for a value (a number, true) that has no line of its own."""
    if not isinstance(raw, list):
        raise TrainingDataError(f"'{section}' must be a list of components with a 'name'", path,
                                line_of(raw, key_line))
    result = []
    for item in raw:
        if not isinstance(item, dict) or "name" not in item:
            raise TrainingDataError(f"each entry of '{section}' needs a 'name'", path, line_of(item, line_of(raw)))
        name = str(item["name"]).split(".")[-1]
        if name not in known:
            raise TrainingDataError(
                f"unknown {kind} '{name}' in '{section}'; "
                f"Helpline knows: {', '.join(sorted(known))}", path, line_of(item))
        result.append({**plain(item), "name": name})
    return result


def load_config(path: str | Path) -> BotConfig:
    """Read ``config.yml``; empty ``pipeline``/``policies`` mean Rasa's defaults."""
    path = Path(path)
    data = read_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise TrainingDataError("config.yml must be a mapping", path, line_of(data, 1))
    config = BotConfig(path=path, language=str(data.get("language") or "en"), helpline=data.get("helpline") or {},
                       key_lines=dict(getattr(data, "key_lines", {})))
    if data.get("pipeline"):
        config.pipeline = _named_list(data["pipeline"], path, "pipeline", NLU_COMPONENTS, "component",
                                      data.key_lines.get("pipeline"))
    if data.get("policies"):
        config.policies = _named_list(data["policies"], path, "policies", POLICIES, "policy",
                                      data.key_lines.get("policies"))
    config.notes = option_notes(data.get("pipeline"), path) + option_notes(data.get("policies"), path)
    if config.language != "en":
        raise TrainingDataError(f"language '{config.language}' is not supported (Helpline's models are English)",
                                path, data.key_lines.get("language"))
    return config
