"""Editors change content; the running server validates, retrains and swaps it in.

``POST /model/reload`` (or ``helpline run --watch``, which polls the content
fingerprint) re-reads the project from disk. Content that fails to load or to
validate is reported with file and line and never replaces the working model.
Knowledge articles are part of the content: they are validated with the rest,
and a changed knowledge base is re-indexed (only changed articles are
embedded) and swapped in without retraining the bot.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from bot.channels.rest import PROCESSOR_KEY, error
from bot.knowledge.base import KnowledgeBase
from bot.model_archive import ModelLoadError, fingerprint, load, train
from bot.training_data.project import load_project
from bot.training_data.yaml_reader import TrainingDataError
from bot.validation import validate_project

logger = logging.getLogger(__name__)


class ContentReloader:
    def __init__(self, project_root: Path, models_dir: Path, knowledge: KnowledgeBase | None = None):
        self.project_root = project_root
        self.models_dir = models_dir
        self.knowledge = knowledge
        self._lock = asyncio.Lock()

    def current_fingerprint(self) -> str | None:
        try:
            bot_content = fingerprint(load_project(self.project_root))
        except TrainingDataError:
            return None
        return f"{bot_content}:{self.knowledge.fingerprint()}" if self.knowledge else bot_content

    async def reload(self, app: web.Application) -> tuple[bool, dict]:
        """Retrain from disk and swap the model in; (False, problems) leaves the old model serving."""
        processor = app[PROCESSOR_KEY]
        async with self._lock:
            try:
                project = load_project(self.project_root)
            except TrainingDataError as exc:
                return False, {"errors": [str(exc)]}
            report = validate_project(project)
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
                archive = await asyncio.to_thread(train, project, self.models_dir)
                model = await asyncio.to_thread(load, archive)
            except (ModelLoadError, TrainingDataError, ValueError) as exc:
                return False, {"errors": [str(exc)]}
            processor.swap_model(model)
            logger.info("content reloaded", extra={"model": model.fingerprint})
            return True, {"model": model.fingerprint, "changed": True, **knowledge_details}

    async def handle(self, request: web.Request) -> web.Response:
        ok, details = await self.reload(request.app)
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
                ok, details = await self.reload(app)
                log = logger.info if ok else logger.error
                log("content change", extra={"ok": ok, **details})
