"""Find and load everything a Rasa-style bot project consists of.

Rasa's layout (``domain.yml`` or ``domain/``, ``data/``, ``tests/``,
``endpoints.yml``) works as is; Helpline's own repository keeps its content in
``nlu_data/`` and says so in the ``helpline:`` section of ``config.yml``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.config import BotConfig, load_config
from bot.training_data.domain import Domain
from bot.training_data.domain_reader import load_domain
from bot.training_data.nlu_data import NLUData, read_nlu_items
from bot.training_data.rasa2 import Rasa2ProjectError, rasa2_findings
from bot.training_data.stories import Story, read_story_items
from bot.training_data.yaml_reader import TrainingDataError, line_of, read_yaml_file, within

TEST_FILE_PREFIX = "test_"


@dataclass
class TrainingData:
    nlu: NLUData = field(default_factory=NLUData)
    stories: list[Story] = field(default_factory=list)
    rules: list[Story] = field(default_factory=list)


@dataclass
class BotProject:
    root: Path
    config: BotConfig
    domain: Domain
    data: TrainingData
    data_files: list[Path]
    domain_files: list[Path]

    def test_story_files(self) -> list[Path]:
        tests = self.root / self.config.helpline.get("tests", "tests")
        if tests.is_file():
            return [tests]
        return sorted(p for p in tests.rglob("*.yml") if _has_story_sections(p)) if tests.is_dir() else []


def _has_story_sections(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\nstories:" in f"\n{text}" or "\nrules:" in f"\n{text}"


def yaml_files(paths: list[Path], include_tests: bool = False) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in candidates:
            if file.suffix not in (".yml", ".yaml") or not file.is_file():
                continue
            if not include_tests and file.name.startswith(TEST_FILE_PREFIX):
                continue
            files.append(file)
    return files


def read_training_file(path: Path, domain: Domain | None = None) -> TrainingData:
    """One data file may hold ``nlu``, ``stories`` and ``rules`` sections (and ``responses``)."""
    data = TrainingData()
    content = read_yaml_file(path)
    if content is None:
        return data
    if not isinstance(content, dict):
        raise TrainingDataError("a training data file must be a mapping with nlu/stories/rules", path,
                                line_of(content, 1))
    for key in content:
        if key not in ("version", "nlu", "stories", "rules", "responses"):
            raise TrainingDataError(f"unknown section '{key}' (expected nlu, stories, rules)", path,
                                    content.key_lines.get(key))
    with within(content.key_lines.get("nlu")):
        data.nlu = read_nlu_items(content.get("nlu"), path)
    with within(content.key_lines.get("stories")):
        data.stories = read_story_items(content.get("stories"), path, is_rule=False)
    with within(content.key_lines.get("rules")):
        data.rules = read_story_items(content.get("rules"), path, is_rule=True)
    responses = content.get("responses")
    if responses and domain is not None:
        if not isinstance(responses, dict) or not all(isinstance(v, list) for v in responses.values()):
            raise TrainingDataError("'responses' must map response names to lists of variations", path,
                                    content.key_lines.get("responses"))
        for name, variations in responses.items():
            domain.responses.setdefault(str(name), list(variations))
    return data


def load_project(root: str | Path, config_path: str | Path | None = None) -> BotProject:
    """Load config, domain and training data of the project in ``root``.

    A Rasa 2.x project is refused as a whole (:class:`Rasa2ProjectError` lists its 2.x constructs).
    """
    root = Path(root)
    config_file = Path(config_path) if config_path else root / "config.yml"
    findings = rasa2_findings(root, [p for p in (root / "domain.yml", root / "domain") if p.exists()], config_file)
    if findings:
        raise Rasa2ProjectError(findings, root)
    config = load_config(config_file)
    settings = config.helpline
    domain_paths = [root / p for p in _as_paths(settings.get("domain"))] or [
        p for p in (root / "domain.yml", root / "domain") if p.exists()]
    if not domain_paths or not all(p.exists() for p in domain_paths):
        raise TrainingDataError("no domain found (expected domain.yml or a domain/ folder)", root)
    data_paths = [root / p for p in _as_paths(settings.get("data"))] or [root / "data"]
    domain = load_domain(domain_paths)
    data = TrainingData()
    files = yaml_files([p for p in data_paths if p.exists()])
    domain_file_set = {f.resolve() for p in domain_paths for f in yaml_files([p], include_tests=True)}
    files = [f for f in files if f.resolve() not in domain_file_set]
    for file in files:
        part = read_training_file(file, domain)
        data.nlu.merge(part.nlu)
        data.stories.extend(part.stories)
        data.rules.extend(part.rules)
    return BotProject(root, config, domain, data, files, sorted(domain_file_set))


def _as_paths(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
