"""Read YAML as Rasa does (YAML 1.2) while remembering where every value came from.

Editors own the training data; when something is wrong they need ``file:line``,
not a stack trace. Rasa reads its files with ruamel.yaml in YAML 1.2, where
``yes``/``no``/``on``/``off`` are plain strings (an intent called ``yes`` stays
"yes"); PyYAML only speaks YAML 1.1. The safe constructor here builds
dict/list/str subclasses that carry the 1-based line they started on, so that
every later check can name the line.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError


class TrainingDataError(ValueError):
    """A problem in an editor-owned file, reported as ``path:line: message``."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.location_prefix() + message)

    def location_prefix(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}: " if self.line else f"{self.path}: "


class YamlMap(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict


class YamlSeq(list):
    """A sequence that knows its own line."""

    line: int = 0


class YamlStr(str):
    """A scalar string that knows its line."""

    line: int = 0


class _LineConstructor(SafeConstructor):
    """ruamel's YAML 1.2 safe constructor whose mappings, sequences and strings remember their start line."""

    def construct_yaml_map(self, node: MappingNode):
        result = YamlMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        yield result
        self.flatten_mapping(node)  # merge keys (<<: *anchor) first; the mapping's own keys win
        merged = len(getattr(node, "merge", None) or [])  # flatten_mapping put them first in node.value
        own_keys: set = set()
        for index, (key_node, value_node) in enumerate(node.value):
            own = index >= merged
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                raise TrainingDataError("a mapping key must be a plain value", None, line) from None
            if own:
                if key in own_keys:
                    raise TrainingDataError(f"duplicate key '{key}' (first on line {result.key_lines[key]})",
                                            None, line)
                own_keys.add(key)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line

    def construct_yaml_seq(self, node: SequenceNode):
        result = YamlSeq()
        result.line = node.start_mark.line + 1
        yield result
        result.extend(self.construct_object(child, deep=True) for child in node.value)

    def construct_yaml_str(self, node: ScalarNode) -> YamlStr:
        result = YamlStr(self.construct_scalar(node))
        result.line = node.start_mark.line + 1
        return result


_LineConstructor.add_constructor("tag:yaml.org,2002:map", _LineConstructor.construct_yaml_map)
_LineConstructor.add_constructor("tag:yaml.org,2002:seq", _LineConstructor.construct_yaml_seq)
_LineConstructor.add_constructor("tag:yaml.org,2002:str", _LineConstructor.construct_yaml_str)


@contextmanager
def within(line: int | None) -> Iterator[None]:
    """Errors raised inside that know no line (a number or ``true`` where a name or list belongs carries
    none) get ``line``: the line of the section they were found in."""
    try:
        yield
    except TrainingDataError as error:
        if error.line is not None or line is None:
            raise
        raise TrainingDataError(error.message, error.path, line) from None


def line_of(value: Any, default: int | None = None) -> int | None:
    """Line where ``value`` started, if it came from this reader."""
    return getattr(value, "line", None) or default


def parse_yaml(text: str, path: str | Path) -> Any:
    """Parse YAML 1.2 text; syntax errors become :class:`TrainingDataError` with file and line."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _LineConstructor
    try:
        return yaml.load(text)
    except TrainingDataError as error:
        raise TrainingDataError(error.message, path, error.line) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        # Counted from the character index, not ``mark.line``: YAML also breaks lines at CR, NEL and
        # U+2028, which editors (and the file's line count) do not all agree on.
        line = text.count("\n", 0, mark.index) + 1 if mark else None
        problem = error.problem or error.context or "invalid YAML"
        raise TrainingDataError(f"invalid YAML: {problem}", path, line) from None
    except ReaderError as error:  # a character YAML forbids: no mark, only its position in the text
        line = text.count("\n", 0, error.position) + 1
        raise TrainingDataError(f"invalid YAML: character {error.character!r} is not allowed in YAML text",
                                path, line) from None
    except YAMLError as error:
        raise TrainingDataError(f"invalid YAML: {error}", path) from None


def read_yaml_file(path: str | Path) -> Any:
    """Read and parse one YAML file, naming the file in every error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TrainingDataError("file is not UTF-8 text", path) from None
    except OSError as error:
        raise TrainingDataError(f"cannot read file: {error.strerror}", path) from None
    return parse_yaml(text, path)


def plain(value: Any) -> Any:
    """Strip position information (for JSON output and persistence)."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
