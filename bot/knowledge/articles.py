"""Knowledge articles: Markdown files with YAML front matter that editors own.

One file per article::

    ---
    id: nw-4410-warranty
    title: NW-4410 label printer warranty
    questions:
      - what's the warranty on the nw-4410 label printer
    tags: [warranty, label printer]
    skill: tech_support
    valid_until: 2027-06-30      # optional
    ---
    The spoken answer: short sentences, written for the ear.

    ## Details
    Optional notes that only agents see.

Every problem is reported as ``file:line`` so an editor can jump to it; an
expired article is a warning (it is left out of the index, nothing breaks when
a date passes on a running server).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.training_data.yaml_reader import TrainingDataError, line_of, parse_yaml
from bot.validation import ERROR, WARNING, Issue, ValidationReport

FENCE = "---"
DETAILS_HEADING = re.compile(r"^##\s+details\s*$", re.IGNORECASE | re.MULTILINE)
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
REQUIRED = ("id", "title", "questions", "skill")
OPTIONAL = ("tags", "valid_until")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    questions: tuple[str, ...]
    skill: str
    answer: str
    tags: tuple[str, ...] = ()
    valid_until: dt.date | None = None
    details: str = ""
    path: str = ""

    @property
    def content_hash(self) -> str:
        """Changes when anything that is embedded or indexed changes (not the agents' details)."""
        digest = hashlib.sha256("\x1f".join([self.id, self.title, *self.questions, "\x1e", self.answer,
                                             "\x1e", *self.tags]).encode())
        return digest.hexdigest()[:16]

    def expired(self, today: dt.date) -> bool:
        return self.valid_until is not None and self.valid_until < today


@dataclass
class ArticleSet:
    """The articles that may be served, and what validation found."""

    articles: list[Article] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)
    files: list[Path] = field(default_factory=list)


def parse_article(path: Path, text: str) -> Article:
    """One article from its file text; raises TrainingDataError naming file and line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise TrainingDataError("an article must start with a '---' line opening its front matter", path, 1)
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if closing is None:
        raise TrainingDataError("the front matter is never closed with a '---' line", path, 1)
    # Blank lines in place of the lines above keep YAML's line numbers equal to the file's.
    meta = parse_yaml("\n" + "\n".join(lines[1:closing]), path)
    if not isinstance(meta, dict):
        raise TrainingDataError("the front matter must be a mapping of id, title, questions, tags, skill", path, 2)
    for key in meta:
        if key not in REQUIRED + OPTIONAL:
            raise TrainingDataError(f"unknown front matter field '{key}' (expected one of "
                                    f"{', '.join(REQUIRED + OPTIONAL)})", path, meta.key_lines.get(key))
    for key in REQUIRED:
        if key not in meta:
            raise TrainingDataError(f"front matter is missing '{key}'", path, 1)
    article_id = _text(meta, "id", path)
    if not ID_PATTERN.match(article_id):
        raise TrainingDataError(f"id '{article_id}' must be lowercase letters, digits, '-' or '_'", path,
                                meta.key_lines["id"])
    body_start = closing + 2  # 1-based line after the closing fence
    body = "\n".join(lines[closing + 1:])
    heading = DETAILS_HEADING.search(body)
    answer = " ".join((body[:heading.start()] if heading else body).split())
    if not answer:
        raise TrainingDataError("the article has no answer: write the spoken answer after the front matter",
                                path, body_start)
    return Article(
        id=article_id, title=_text(meta, "title", path), questions=tuple(_texts(meta, "questions", path, 1)),
        skill=_text(meta, "skill", path), answer=answer, tags=tuple(_texts(meta, "tags", path, 0)),
        valid_until=_date(meta, path), details=body[heading.end():].strip() if heading else "",
        path=str(path))


def load_articles(folder: Path, today: dt.date | None = None) -> ArticleSet:
    """All ``*.md`` articles under ``folder`` (README.md excepted), validated together."""
    today = today or dt.date.today()
    result = ArticleSet()
    if not folder.is_dir():
        result.report.add(Issue(ERROR, "knowledge folder not found", str(folder)))
        return result
    seen: dict[str, Article] = {}
    for path in sorted(folder.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        result.files.append(path)
        try:
            article = parse_article(path, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            result.report.add(Issue(ERROR, "file is not UTF-8 text", str(path)))
            continue
        except TrainingDataError as error:
            result.report.add(Issue(ERROR, error.message, error.path or str(path), error.line))
            continue
        if article.id in seen:
            first = seen[article.id]
            result.report.add(Issue(ERROR, f"duplicate article id '{article.id}' (also in {first.path})",
                                    str(path), _key_line(path, "id")))
            continue
        seen[article.id] = article
        if article.expired(today):
            result.report.add(Issue(WARNING, f"article '{article.id}' expired on {article.valid_until}; "
                                             "it is not served", str(path), _key_line(path, "valid_until")))
            continue
        result.articles.append(article)
    if not result.files:
        result.report.add(Issue(WARNING, "no articles (*.md) found", str(folder)))
    return result


def _text(meta: dict, key: str, path: Path) -> str:
    value = meta[key]
    if not isinstance(value, str) or not value.strip():
        raise TrainingDataError(f"'{key}' must be non-empty text", path, meta.key_lines.get(key))
    return " ".join(value.split())


def _texts(meta: dict, key: str, path: Path, minimum: int) -> list[str]:
    value = meta.get(key) or []
    line = line_of(value, meta.key_lines.get(key))
    if not isinstance(value, list) or any(not isinstance(v, str) or not v.strip() for v in value):
        raise TrainingDataError(f"'{key}' must be a list of non-empty texts", path, line)
    if len(value) < minimum:
        raise TrainingDataError(f"'{key}' needs at least {minimum} entry", path, line)
    return [" ".join(v.split()) for v in value]


def _date(meta: dict, path: Path) -> dt.date | None:
    value = meta.get("valid_until")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TrainingDataError(f"valid_until '{value}' must be a date like 2027-06-30", path,
                                meta.key_lines.get("valid_until")) from None


def _key_line(path: Path, key: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None

