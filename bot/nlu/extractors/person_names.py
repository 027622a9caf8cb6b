"""PERSON entities from a names list: Helpline's offline stand-in for spaCy's PERSON.

Rasa bots put ``SpacyEntityExtractor`` with ``dimensions: [PERSON]`` in their
pipeline and never annotate a person in their examples, so a trained tagger has
nothing to learn from; and no spaCy model can be fetched here. What callers
say in those turns is mostly a bare first name ("lisa", "to John Smith"), which
a gazetteer finds reliably: the first names of the US census (1990, public
domain) as shipped by the ``names`` package, optionally followed by a census
surname. Only names borne by at least 1 in 20,000 people count (about 2,400
names): the rarer ones are mostly words ("Ok", "January").

Many census names are also words ("will", "may", "bill", "chase"). Stop words,
month and weekday names are never names, and the bot's own examples say which
other words mean something else in this bot: a word written in lower case
inside a sentence, or annotated as another entity, is not a name unless the
examples also capitalise it inside a sentence or annotate it as a PERSON ("pay
my bill" vs. "Lisa Macintyre", "pay [Lisa](PERSON)"). The same words never
extend a name as its surname ("send lisa money").
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from bot.nlu.entities import Entity, read_json, write_json

PERSON = "PERSON"
MIN_FIRST_NAME_PERCENT = 0.005  # of the census population
CALENDAR_WORDS = frozenset("january february march april may june july august september october november december "
                           "monday tuesday wednesday thursday friday saturday sunday".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@lru_cache(maxsize=1)
def census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), lower-case, from the ``names`` package's census files."""
    import names

    folder = Path(names.__file__).parent

    def read(*files: str, min_percent: float = 0.0) -> frozenset[str]:
        rows = (line.split() for file in files for line in (folder / file).read_text().splitlines() if line.strip())
        return frozenset(row[0].lower() for row in rows if float(row[1]) >= min_percent)

    return (read("dist.female.first", "dist.male.first", min_percent=MIN_FIRST_NAME_PERCENT),
            read("dist.all.last"))


@lru_cache(maxsize=1)
def _never_names() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | CALENDAR_WORDS


class PersonNameExtractor:
    name = "PersonNameExtractor"
    _FILE = "person_names.json"

    def __init__(self, words: Iterable[str] = ()):
        self.words = frozenset(words)  # words that are not names in this bot

    def train(self, examples: Iterable) -> None:
        """Learn from the bot's examples which census names are words in this bot."""
        lower_inside, capitalised_inside, person, other_entity = set(), set(), set(), set()
        for example in examples:
            for annotation in example.entities:
                words = {w.lower() for w in _WORD.findall(example.text[annotation["start"]:annotation["end"]])}
                (person if annotation.get("entity") == PERSON else other_entity).update(words)
            for position, match in enumerate(_WORD.finditer(example.text)):
                word = match.group()
                if word.islower() and position > 0:
                    lower_inside.add(word)
                elif word[0].isupper() and position > 0:
                    capitalised_inside.add(word.lower())
        self.words = frozenset((other_entity - person) | (lower_inside - capitalised_inside - person))

    def _is_name(self, word: str, names: frozenset[str]) -> bool:
        lowered = word.lower()
        return len(lowered) > 1 and lowered in names and lowered not in self.words and lowered not in _never_names()

    def extract(self, text: str) -> list[Entity]:
        first, surnames = census_names()
        words = list(_WORD.finditer(text))
        found = []
        index = 0
        while index < len(words):
            word = words[index]
            if not self._is_name(word.group(), first):
                index += 1
                continue
            end = word.end()
            following = words[index + 1] if index + 1 < len(words) else None
            if (following is not None and text[end:following.start()] == " "
                    and self._is_name(following.group(), surnames)):
                end, index = following.end(), index + 1
            found.append(Entity(word.start(), end, text[word.start():end], PERSON, extractor=self.name))
            index += 1
        return found

    def persist(self, model_dir: str | Path) -> None:
        write_json(model_dir, self._FILE, sorted(self.words))

    @classmethod
    def load(cls, model_dir: str | Path) -> "PersonNameExtractor":
        return cls(read_json(model_dir, cls._FILE))
