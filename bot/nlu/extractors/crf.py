"""Trained sequence tagger for annotated entities (python-crfsuite).

Like Rasa's CRFEntityExtractor, one CRF tags entities with BILOU labels and, when
the training data has roles or groups, separate CRFs tag those per token, using the
entity tags as extra features. Separate taggers keep the label space small, so a
few hundred examples suffice; compound "B-city#from" labels would need many more.

Each token also sees the message's intent, alone and joined with the word (the gold
intent in training, the classifier's top intent when parsing). Rasa's DIET tags
entities with the network that classifies the intent, so a bot may annotate a word
only under one intent ("i [don't](negation) want to subscribe" among unannotated
"don't"s elsewhere) and rely on that; the joined feature lets the tagger learn it.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import pycrfsuite

from bot.nlu.entities import Entity, read_json, spans_overlap, write_json
from bot.nlu.extractors.regex_lookup import (
    Lookups,
    NamedPattern,
    Regexes,
    compile_patterns,
    patterns_from_json,
    patterns_to_json,
)
from bot.nlu.normalizer import find_number_spans
from bot.training_data.retrieval import base_intent

_TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_OUTSIDE = "O"
_ENTITY = "entity"
_ATTRIBUTES = ("role", "group")  # annotation keys with their own tagger

Features = dict[str, "str | float"]


class Token(NamedTuple):
    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    """Words (keeping "don't" whole) and single punctuation marks, with offsets."""
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]


def _shape(word: str) -> str:
    """"McDonald" -> "XxXx", "4729" -> "d": runs collapse so shapes generalise."""
    mapped = re.sub(r"[A-Z]", "X", re.sub(r"[a-z]", "x", re.sub(r"[0-9]", "d", word)))
    return re.sub(r"(.)\1+", r"\1", mapped)


def _word_features(word: str) -> Features:
    low = word.lower()
    features: Features = {
        "low": low,
        "pre3": low[:3],
        "suf3": low[-3:],
        "suf2": low[-2:],
        "shape": _shape(word),
    }
    flags = {"digit": word.isdigit(), "title": word.istitle(), "upper": word.isupper()}
    features.update({name: 1.0 for name, on in flags.items() if on})
    if word.isdigit():
        features["digits"] = str(len(word))
    return features


def _span_flags(text: str, tokens: list[Token], patterns: Sequence[NamedPattern]) -> list[set[str]]:
    """Per token: names of regex/lookup matches and spoken-number runs it falls in.
    Spoken numbers matter on the phone: "four seven two" should look like "472"."""
    spans = [(m.start(), m.end(), f"pattern={p.name}") for p in patterns for m in p.regex.finditer(text)]
    for number in find_number_spans(text):
        spans.append((number.start, number.end, "number"))
        if number.sequence:
            spans.append((number.start, number.end, "digit_sequence"))
    return [
        {flag for start, end, flag in spans if spans_overlap((token.start, token.end), (start, end))}
        for token in tokens
    ]


_NEIGHBOUR_KEYS = {1: ("low", "shape", "title", "digit"), 2: ("low", "shape")}


def _sentence_features(text: str, tokens: list[Token], patterns: Sequence[NamedPattern],
                       intent: str | None = None) -> list[Features]:
    """Own features, selected features of tokens within two positions, match flags, the intent."""
    own = [_word_features(token.text) for token in tokens]
    flags = _span_flags(text, tokens, patterns)
    intent = base_intent(intent) if intent else None  # the classifier predicts a retrieval intent's base
    sequence = []
    for i in range(len(tokens)):
        features: Features = {"bias": 1.0, **own[i], **{flag: 1.0 for flag in flags[i]}}
        if intent:
            features["intent"] = intent
            features["intent|low"] = f"{intent}|{own[i]['low']}"
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if not 0 <= j < len(tokens):
                features[f"{offset}:pad"] = 1.0
                continue
            keys = _NEIGHBOUR_KEYS[abs(offset)]
            features.update({f"{offset}:{k}": own[j][k] for k in keys if k in own[j]})
            if abs(offset) == 1:
                features.update({f"{offset}:{flag}": 1.0 for flag in flags[j]})
        sequence.append(features)
    if sequence:
        sequence[0]["BOS"] = sequence[-1]["EOS"] = 1.0
    return sequence


def _with_entity_context(features: list[Features], entity_labels: list[str]) -> list[Features]:
    """Role/group taggers see which entity each token (and its neighbours) belongs to."""
    types = [label.partition("-")[2] or _OUTSIDE for label in entity_labels]
    enriched = []
    for i, base in enumerate(features):
        context = {f"{offset}:entity": types[i + offset] for offset in (-1, 0, 1) if 0 <= i + offset < len(types)}
        enriched.append({**base, **context})
    return enriched


def _covered(tokens: list[Token], start: int, end: int) -> list[int]:
    return [i for i, token in enumerate(tokens) if spans_overlap((token.start, token.end), (start, end))]


def _training_labels(tokens: list[Token], annotations: Iterable[dict]) -> dict[str, list[str]]:
    """BILOU entity labels plus per-token role and group labels for one example.
    Annotations that overlap an earlier one are skipped (Rasa rejects them too)."""
    labels = {name: [_OUTSIDE] * len(tokens) for name in (_ENTITY, *_ATTRIBUTES)}
    for annotation in annotations:
        covered = _covered(tokens, annotation["start"], annotation["end"])
        if not covered or any(labels[_ENTITY][i] != _OUTSIDE for i in covered):
            continue
        for position, i in enumerate(covered):
            labels[_ENTITY][i] = f"{_bilou_prefix(position, len(covered))}-{annotation['entity']}"
            for attribute in _ATTRIBUTES:
                labels[attribute][i] = annotation.get(attribute) or _OUTSIDE
    return labels


def _bilou_prefix(position: int, length: int) -> str:
    if length == 1:
        return "U"
    return "B" if position == 0 else "L" if position == length - 1 else "I"


def _decode_bilou(labels: Sequence[str]) -> list[tuple[int, int, str]]:
    """(first token, stop token, entity) spans; tolerant of invalid sequences such as
    an "I" without "B", which a CRF can still emit on unusual input."""
    spans: list[tuple[int, int, str]] = []
    current: tuple[int, str] | None = None
    for i, label in enumerate([*labels, _OUTSIDE]):
        prefix, _, entity = label.partition("-")
        if current and (prefix in ("O", "B", "U") or entity != current[1]):
            spans.append((current[0], i, current[1]))
            current = None
        if prefix == "U":
            spans.append((i, i + 1, entity))
        elif prefix in ("B", "I", "L") and current is None:
            current = (i, entity)
        if prefix == "L" and current:
            spans.append((current[0], i + 1, entity))
            current = None
    return spans


def _train_model(xseqs: list[list[Features]], yseqs: list[list[str]], params: dict) -> bytes:
    """CRFsuite only trains to a file; the bytes are kept so the model lives in memory."""
    trainer = pycrfsuite.Trainer(verbose=False)
    for xseq, yseq in zip(xseqs, yseqs):
        trainer.append(xseq, yseq)
    trainer.set_params(params)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.crfsuite")
        trainer.train(path)
        return Path(path).read_bytes()


def _open_tagger(model: bytes) -> pycrfsuite.Tagger:
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(model)
    return tagger


class CRFEntityExtractor:
    """BILOU CRF entity tagger with optional role and group taggers."""

    name = "CRFEntityExtractor"
    _FILE = "crf_entity_extractor.json"

    def __init__(self, c1: float = 0.1, c2: float = 0.1, max_iterations: int = 50) -> None:
        self.c1, self.c2, self.max_iterations = c1, c2, max_iterations
        self.patterns: list[NamedPattern] = []
        self._models: dict[str, bytes] = {}
        self._taggers: dict[str, pycrfsuite.Tagger] = {}

    def _params(self) -> dict:
        return {
            "c1": self.c1,
            "c2": self.c2,
            "max_iterations": self.max_iterations,
            "feature.possible_transitions": True,
        }

    def train(self, examples: Iterable, synonyms: dict[str, str], regexes: Regexes, lookups: Lookups) -> None:
        """Train on annotated examples; all regexes/lookups become features (Rasa's
        RegexFeaturizer), whatever their name. Without annotations nothing is trained."""
        self.patterns = compile_patterns(regexes, lookups)
        xseqs, labels = [], {name: [] for name in (_ENTITY, *_ATTRIBUTES)}
        for example in examples:
            tokens = tokenize(example.text)
            if not tokens:
                continue
            xseqs.append(_sentence_features(example.text, tokens, self.patterns, example.intent))
            for name, sequence in _training_labels(tokens, example.entities).items():
                labels[name].append(sequence)
        self._models = {}
        if _has_labels(labels[_ENTITY]):
            self._models[_ENTITY] = _train_model(xseqs, labels[_ENTITY], self._params())
            attribute_xseqs = [_with_entity_context(x, y) for x, y in zip(xseqs, labels[_ENTITY])]
            for attribute in _ATTRIBUTES:
                if _has_labels(labels[attribute]):
                    self._models[attribute] = _train_model(attribute_xseqs, labels[attribute], self._params())
        self._taggers = {name: _open_tagger(model) for name, model in self._models.items()}

    def extract(self, text: str, intent: str | None = None) -> list[Entity]:
        """Entities in ``text``; ``intent``, the message's predicted intent, is a feature as in training."""
        tokens = tokenize(text)
        if _ENTITY not in self._taggers or not tokens:
            return []
        features = _sentence_features(text, tokens, self.patterns, intent)
        tagger = self._taggers[_ENTITY]
        labels = tagger.tag(features)
        confidences = [tagger.marginal(label, i) for i, label in enumerate(labels)]
        attribute_features = _with_entity_context(features, labels)
        entities = []
        for first, stop, entity_type in _decode_bilou(labels):
            start, end = tokens[first].start, tokens[stop - 1].end
            entities.append(Entity(
                start, end, text[start:end], entity_type,
                role=self._attribute("role", attribute_features, first, stop),
                group=self._attribute("group", attribute_features, first, stop),
                extractor=self.name,
                confidence=min(confidences[first:stop]),
            ))
        return entities

    def _attribute(self, attribute: str, features: list[Features], first: int, stop: int) -> str | None:
        """Role/group with the highest mean marginal over the entity's tokens."""
        tagger = self._taggers.get(attribute)
        if tagger is None:
            return None
        tagger.set(features)
        scores = {
            label: sum(tagger.marginal(label, i) for i in range(first, stop)) / (stop - first)
            for label in tagger.labels()
        }
        best = max(scores, key=scores.get)
        return None if best == _OUTSIDE else best

    def persist(self, model_dir: str | Path) -> None:
        config = {
            "c1": self.c1,
            "c2": self.c2,
            "max_iterations": self.max_iterations,
            "patterns": patterns_to_json(self.patterns),
            "taggers": sorted(self._models),
        }
        write_json(model_dir, self._FILE, config)
        for name, model in self._models.items():
            _model_path(model_dir, name).write_bytes(model)

    @classmethod
    def load(cls, model_dir: str | Path) -> "CRFEntityExtractor":
        config = read_json(model_dir, cls._FILE)
        extractor = cls(config["c1"], config["c2"], config["max_iterations"])
        extractor.patterns = patterns_from_json(config["patterns"], case_sensitive=False)
        extractor._models = {name: _model_path(model_dir, name).read_bytes() for name in config["taggers"]}
        extractor._taggers = {name: _open_tagger(model) for name, model in extractor._models.items()}
        return extractor


def _has_labels(sequences: list[list[str]]) -> bool:
    return any(label != _OUTSIDE for sequence in sequences for label in sequence)


def _model_path(model_dir: str | Path, tagger: str) -> Path:
    return Path(model_dir) / f"crf_entity_extractor.{tagger}.crfsuite"
