"""A training example added from the editor page: appended to the project's NLU data, taken back if refused.

The examples go to ``nlu_from_editor.yml`` in the project's first data folder, in Rasa's format, so
they are ordinary content: reviewed in git, moved or edited by hand. Appending keeps whatever an
editor wrote there. The write holds an exclusive lock on the file (other server processes of the same
project may append too), and the file is read back with the training-data reader: if the appended
block does not come out as exactly the one new example (someone ended the file with another section),
the file is restored and the change refused.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from bot.training_data.domain import DEFAULT_INTENTS
from bot.training_data.project import BotProject, read_training_file
from bot.training_data.yaml_reader import TrainingDataError
from helpline.editor.turns import normalized, teachable

EDITOR_FILE = "nlu_from_editor.yml"
MAX_EXAMPLE_CHARS = 300
HEADER = ('# Examples added on the editor page (/editor) from callers\' turns, in Rasa\'s NLU format.\n'
          '# Edit or move them freely; the page appends new ones at the end of the nlu list.\n'
          'version: "3.1"\n'
          'nlu:\n')


class ExampleError(ValueError):
    """The example cannot be added; the message says why."""


def editor_file(project: BotProject) -> Path:
    """``nlu_from_editor.yml`` in the first data folder the project names (Rasa's ``data/`` by default)."""
    configured = project.config.helpline.get("data") or ["data"]
    for name in [configured] if isinstance(configured, str) else configured:
        folder = project.root / str(name)
        if folder.is_dir():
            return folder / EDITOR_FILE
    return project.root / "data" / EDITOR_FILE


def teachable_intents(project: BotProject) -> list[str]:
    """Intents the NLU is trained on and the domain knows (not the built-in ones)."""
    return sorted(set(project.data.nlu.intents) & set(project.domain.intents) - set(DEFAULT_INTENTS))


def checked_example(project: BotProject, text: object, intent: object) -> tuple[str, str]:
    """The example as it will be written, or ExampleError naming what is wrong with it."""
    if not isinstance(text, str) or not isinstance(intent, str):
        raise ExampleError("send {\"text\": \"...\", \"intent\": \"...\"}")
    clean = " ".join(text.split())
    if not clean or len(clean) > MAX_EXAMPLE_CHARS:
        raise ExampleError(f"the text must have 1 to {MAX_EXAMPLE_CHARS} characters")
    if not teachable(clean) or not clean.isprintable():
        raise ExampleError("the text must be plain words: no brackets or braces, not starting with '/'")
    if intent not in teachable_intents(project):
        raise ExampleError(f"'{intent[:80]}' is not an intent of this bot's NLU data")
    for example in project.data.nlu.examples:
        if normalized(example.text) == normalized(clean):
            raise ExampleError(f"'{clean}' is already an example of intent '{example.intent}' "
                               f"({example.path}:{example.line})")
    return clean, intent


@dataclass
class AddedExample:
    """A :class:`helpline.content_reload.ContentChange`: one example appended to the editor's file."""

    path: Path
    text: str
    intent: str
    who: str
    _before: bytes | None = field(default=None, init=False, repr=False)

    def describe(self) -> dict:
        return {"kind": "example", "text": self.text, "intent": self.intent, "by": self.who,
                "file": self.path.name}

    def apply(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path) as handle:
            handle.seek(0)
            self._before = handle.read() if self.path.stat().st_size else None
            before_count = self._count()
            block = f"- intent: {json.dumps(self.intent)}\n  examples: |\n    - {self.text}\n"
            handle.seek(0, os.SEEK_END)
            if self._before is None:
                handle.write(HEADER.encode())
            elif not self._before.endswith(b"\n"):
                handle.write(b"\n")
            handle.write(block.encode())
            handle.flush()
            os.fsync(handle.fileno())
            try:
                examples = read_training_file(self.path).nlu.examples
            except TrainingDataError as error:
                self._restore(handle)
                raise ExampleError(f"{self.path} could not take the example ({error}); it was left as it was")
            if len(examples) != before_count + 1 or (examples[-1].text, examples[-1].intent) != (self.text, self.intent):
                self._restore(handle)
                raise ExampleError(f"{self.path} does not end with its nlu: list, so the example was not added; "
                                   "move other sections to another file")

    def revert(self) -> None:
        with _locked(self.path) as handle:
            self._restore(handle)

    def _count(self) -> int:
        if self._before is None:
            return 0
        try:
            return len(read_training_file(self.path).nlu.examples)
        except TrainingDataError as error:
            raise ExampleError(f"fix {self.path} first: {error}") from None

    def _restore(self, handle) -> None:
        handle.seek(0)
        handle.truncate()
        if self._before is not None:
            handle.write(self._before)
        handle.flush()
        os.fsync(handle.fileno())
        if self._before is None:
            self.path.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """The file opened for update under an exclusive ``flock`` (created if missing; closing releases it)."""
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle
