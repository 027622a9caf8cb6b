"""Editors change content; the running server validates, retrains, tests and swaps it in.

``POST /model/reload`` (or ``helpline run --watch``, which polls the content
fingerprint, or a change made on the editor page) re-reads the project from
disk. Content that fails to load or to validate is reported with file and line
and never replaces the working model. A new version is trained, loaded back and
run against the project's test stories; if it fails a story that the serving
model passes, it is reported and not swapped in. Knowledge articles are part of
the content: they are validated with the rest, and a changed knowledge base is
re-indexed (only changed articles are embedded) and swapped in without
retraining the bot.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Protocol

from aiohttp import web

from bot.channels.rest import PROCESSOR_KEY, error
from bot.core.processor import BotModel
from bot.knowledge.base import KnowledgeBase
from bot.model_archive import ModelLoadError, Progress, fingerprint
from bot.model_registry import ModelVersion, RegistryError
from bot.model_training import story_results, train_version
from bot.security.principal import principal_of
from bot.training_data.project import BotProject, load_project
from bot.training_data.yaml_reader import TrainingDataError
from bot.validation import validate_project
from helpline.model_versions import ModelVersions
from helpline.security.install import AUDIT_KEY

logger = logging.getLogger(__name__)


class ContentChange(Protocol):
    """An edit the reloader makes under its lock, and takes back if the new model is not swapped in."""

    def apply(self) -> None: ...

    def revert(self) -> None: ...

    def describe(self) -> dict: ...


class ContentReloader:
    def __init__(self, project_root: Path, versions: ModelVersions, knowledge: KnowledgeBase | None = None):
        self.project_root = project_root
        self.versions = versions
        self.knowledge = knowledge
        self._lock = asyncio.Lock()

    @property
    def models_dir(self) -> Path:
        return self.versions.registry.models_dir

    def current_fingerprint(self) -> str | None:
        try:
            bot_content = fingerprint(load_project(self.project_root))
        except TrainingDataError:
            return None
        return f"{bot_content}:{self.knowledge.fingerprint()}" if self.knowledge else bot_content

    async def reload(self, app: web.Application, who: str = "reload",
                     progress: Progress = lambda *_: None) -> tuple[bool, dict]:
        """Retrain from disk and swap the model in; (False, problems) leaves the old model serving."""
        async with self._lock:
            return await self._reload(app, who, progress, None)

    async def apply_change(self, app: web.Application, change: ContentChange, who: str,
                           progress: Progress = lambda *_: None) -> tuple[bool, dict]:
        """Make ``change``, then reload; a change that is not swapped in is taken back."""
        async with self._lock:
            await asyncio.to_thread(change.apply)
            try:
                ok, details = await self._reload(app, who, progress, change.describe())
            except BaseException:
                await asyncio.to_thread(change.revert)
                raise
            if not ok:
                await asyncio.to_thread(change.revert)
            return ok, details

    async def _reload(self, app: web.Application, who: str, progress: Progress,
                      change: dict | None) -> tuple[bool, dict]:
        processor = app[PROCESSOR_KEY]
        try:
            project = await asyncio.to_thread(load_project, self.project_root)
        except TrainingDataError as exc:
            return False, {"errors": [str(exc)]}
        progress("validating", 0, 1)
        report = await asyncio.to_thread(validate_project, project)
        knowledge = self.knowledge.validate() if self.knowledge else None
        errors = [*report.errors, *(knowledge.errors if knowledge else [])]
        if errors:
            return False, {"errors": [str(i) for i in errors]}
        knowledge_details = {}
        if self.knowledge:
            knowledge = await self.knowledge.reload_async()
            if not knowledge.ok:  # edited again since it was validated
                return False, {"errors": [str(i) for i in knowledge.errors]}
            knowledge_details = {"knowledge": knowledge.as_dict()}
        if fingerprint(project) == processor.model.fingerprint:
            return True, {"model": processor.model.fingerprint, "changed": False, **knowledge_details}
        try:
            entry, model = await asyncio.to_thread(train_version, project, self.models_dir, progress,
                                                   "editor" if change else "reload", report, change)
        except (ModelLoadError, RegistryError, TrainingDataError, ValueError) as exc:
            return False, {"errors": [str(exc)]}
        broken = await self._regressions(project, processor.model, entry)
        if broken:
            reason = "breaks test stories the serving model passes: " + ", ".join(sorted(broken))
            await asyncio.to_thread(self.versions.registry.update, entry.version, refused=reason)
            failures = [f["detail"] for f in entry.results["tests"]["failed"] if f["story"] in broken]
            return False, {"errors": [f"version {entry.version} {reason}", *failures], "version": entry.version,
                           "tests": entry.results["tests"]}
        await self.versions.adopt(entry, model, who)
        logger.info("content reloaded", extra={"model": model.fingerprint, "version": entry.version})
        return True, {"model": model.fingerprint, "version": entry.version, "changed": True,
                      "tests": entry.results["tests"], **knowledge_details}

    async def _regressions(self, project: BotProject, serving: BotModel, entry: ModelVersion) -> set[str]:
        """Test stories the new version fails and the serving model (run on the same stories now) passes."""
        failed = {f["story"] for f in entry.results["tests"]["failed"]}
        if not failed:
            return set()
        try:
            baseline = await asyncio.to_thread(story_results, project, serving)
        except Exception:  # stories written for the new content may not even replay on the old model
            logger.exception("test stories cannot run on the serving model")
            return failed
        return failed - {f["story"] for f in baseline["failed"]}

    async def handle(self, request: web.Request) -> web.Response:
        who = principal_of(request).user
        ok, details = await self.reload(request.app, who)
        audit = request.app.get(AUDIT_KEY)
        if audit is not None:
            audit.record("model_reload", who, request.remote, ok=ok, version=details.get("version"))
        if not ok:
            logger.error("content reload refused", extra={"problems": details["errors"][:20]})
            return error(400, "ValidationError",
                         "; ".join(details["errors"][:20]) + f" (still serving {request.app[PROCESSOR_KEY].model.fingerprint})")
        return web.json_response({"status": "ok", **details})

    async def watch(self, app: web.Application, interval: float = 2.0) -> None:
        """Poll the content and reload when it changes (for editors working on a running server)."""
        seen = self.current_fingerprint()
        while True:
            await asyncio.sleep(interval)
            now = await asyncio.to_thread(self.current_fingerprint)
            if now != seen:
                seen = now
                ok, details = await self.reload(app, "watch")
                log = logger.info if ok else logger.error
                log("content change", extra={"ok": ok, **details})

