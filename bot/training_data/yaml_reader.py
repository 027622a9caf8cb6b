"""Read YAML while remembering where every value came from.

Editors own the training data; when something is wrong they need ``file:line``,
not a stack trace. PyYAML's safe loader drops positions, so this loader builds
dict/list/str subclasses that carry the 1-based line they started on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


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


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose containers and strings remember their start line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    result = YamlMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise TrainingDataError("a mapping key must be a plain value", None, key_node.start_mark.line + 1)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> YamlSeq:
    result = YamlSeq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> YamlStr:
    result = YamlStr(loader.construct_scalar(node))
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def line_of(value: Any, default: int | None = None) -> int | None:
    """Line where ``value`` started, if it came from this reader."""
    return getattr(value, "line", None) or default


def parse_yaml(text: str, path: str | Path) -> Any:
    """Parse YAML text; syntax errors become :class:`TrainingDataError` with file and line."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except TrainingDataError as error:
        raise TrainingDataError(error.message, path, error.line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "invalid YAML"
        raise TrainingDataError(f"invalid YAML: {problem}", path, line) from None
    except yaml.YAMLError as error:
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
