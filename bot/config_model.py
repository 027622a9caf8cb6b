"""Typed sections of config.yml, and their errors as ``file:line: key.path: problem``.

Each package describes its own section of ``helpline:`` with a :class:`ConfigModel`
(pydantic): defaults are written once, in the model, and the same model is what the
package runs with. ``helpline/`` composes the sections into one schema; here is what
they share: unknown keys are errors (a typo is never silently ignored), and
:func:`config_errors` turns pydantic's findings into lines an editor can jump to,
with the line taken from the YAML reader's positions and a did-you-mean for a
misspelled key.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.training_data.yaml_reader import TrainingDataError, line_of

SECRET_KEY_HINTS = ("password", "secret", "token", "credential")


class ConfigModel(BaseModel):
    """A section of config.yml: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)


class ConfigError(TrainingDataError):
    """Every problem found in a config section, one ``file:line: key.path: message`` per line."""

    def __init__(self, problems: list[TrainingDataError]):
        self.problems = problems
        first = problems[0]
        super().__init__(first.message, first.path, first.line)
        self.args = ("\n".join(str(problem) for problem in problems),)

    def __str__(self) -> str:
        return self.args[0]


def validate_section(model: type[BaseModel], raw: Any, path: str | Path | None, prefix: str,
                     default_line: int | None = None) -> Any:
    """``raw`` (as read by the YAML reader, positions included) validated as ``model``.

    Raises :class:`ConfigError` naming the file, line and full key path (``prefix`` first) of each problem.
    """
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as error:
        raise ConfigError(config_errors(error, model, raw, path, prefix, default_line)) from None


def config_errors(error: ValidationError, model: type[BaseModel], raw: Any, path: str | Path | None, prefix: str,
                  default_line: int | None = None) -> list[TrainingDataError]:
    """One error per finding, in the order of their lines."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        key_path = _key_path(prefix, loc)
        problems.append(TrainingDataError(f"{key_path}: {_message(item, model, loc)}", path,
                                          _line_at(raw, loc, line_of(raw, default_line))))
    return sorted(problems, key=lambda problem: problem.line or 0)


def _key_path(prefix: str, loc: tuple) -> str:
    text = prefix
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(item: dict, model: type[BaseModel], loc: tuple) -> str:
    kind = item["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        known = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6) if known else []
        if close:
            return f"unknown setting; did you mean '{close[0]}'?"
        return "unknown setting" + (f" (known: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required setting is missing"
    message = item["msg"].removeprefix("Value error, ")
    value = item.get("input")
    if _may_echo(value, loc):
        message += f" (got {str(value) if isinstance(value, str) and not value else repr(_plain_scalar(value))})"
    return message


def _may_echo(value: Any, loc: tuple) -> bool:
    """Show the wrong value unless it may hold a secret (a URL's password, a password or token key)."""
    if not (isinstance(value, (str, int, float, bool)) or value is None):
        return False
    if isinstance(value, str) and "://" in value:
        return False
    return not any(hint in str(part).lower() for part in loc for hint in SECRET_KEY_HINTS)


def _plain_scalar(value: Any) -> Any:
    return str(value) if isinstance(value, str) else value


def _line_at(raw: Any, loc: tuple, line: int | None) -> int | None:
    """The line of the deepest key of ``loc`` that the YAML has (a missing key: its mapping's line)."""
    node = raw
    for part in loc:
        if isinstance(node, dict) and part in node:
            line = getattr(node, "key_lines", {}).get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = line_of(node, line)
        else:
            break
    return line


def _keys_at(model: type, loc: tuple) -> list[str]:
    """The keys the schema knows at ``loc`` (for did-you-mean), or [] when it cannot tell."""
    kind: Any = model
    for part in loc:
        kind = _step(_unwrap(kind), part)
        if kind is None:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [field.alias or name for name, field in kind.model_fields.items()]
    if dataclasses.is_dataclass(kind):
        return [field.name for field in dataclasses.fields(kind)]
    return []


def _unwrap(kind: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> X (the first model-like member of a union)."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(kind) if a is not type(None)]
            kind = next((m for m in members if isinstance(m, type) and
                         (issubclass(m, BaseModel) or dataclasses.is_dataclass(m))), members[0])
        else:
            return kind


def _step(kind: Any, part: Any) -> Any:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(part) or next(
            (f for f in kind.model_fields.values() if f.alias == part), None)
        return field.annotation if field else None
    if dataclasses.is_dataclass(kind):
        return typing.get_type_hints(kind, include_extras=True).get(part)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None
