"""The editor page (``/editor``, role editor): model versions, turns to learn from, examples in one step.

Adding an example is a job: the example is appended to the NLU data, the content validated, a version
trained and run against the test stories, and swapped in live only if it breaks none
(``helpline.content_reload``). Training takes a minute or two, so ``POST /editor/api/examples``
answers at once with a job id and the page polls ``GET /editor/api/jobs/{id}`` for its progress.
Jobs live in the process that runs them.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiohttp import web

from bot.channels.rest import PROCESSOR_KEY, _json_object, error
from bot.security.principal import principal_of
from bot.training_data.project import BotProject, load_project
from bot.training_data.yaml_reader import TrainingDataError
from helpline.content_reload import ContentReloader
from helpline.editor.examples import AddedExample, ExampleError, checked_example, editor_file, teachable_intents
from helpline.editor.turns import FALLBACK_ACTIONS, learnable_turns, normalized
from helpline.security.install import AUDIT_KEY
from helpline.settings import load_settings

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_JOBS = 20
DEFAULT_LOW_CONFIDENCE = 0.55


@dataclass
class Job:
    id: str
    by: str
    change: dict
    state: str = "waiting"      # waiting -> running -> live | refused
    stage: str = "waiting for another change to finish"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.time)
    result: dict | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        """Called from the training thread; plain attribute writes are enough for a poller."""
        self.state, self.stage, self.done, self.total = "running", stage, done, total

    def finish(self, ok: bool, details: dict) -> None:
        self.state = "live" if ok else "refused"
        self.stage = "done"
        self.result = details


class EditorPage:
    def __init__(self, project_root: Path, reloader: ContentReloader):
        self.project_root = project_root
        self.reloader = reloader
        self.jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/editor", self.page)
        app.router.add_static("/editor/static", STATIC)
        app.router.add_get("/editor/api/turns", self.turns)
        app.router.add_post("/editor/api/examples", self.add_example)
        app.router.add_get("/editor/api/jobs/{job_id}", self.job)
        app.on_cleanup.append(self._cancel_jobs)

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "editor.html")

    async def _project(self) -> BotProject:
        try:
            return await asyncio.to_thread(load_project, self.project_root)
        except TrainingDataError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None

    async def turns(self, request: web.Request) -> web.Response:
        project = await self._project()
        config = load_settings(self.project_root, project.config).config
        threshold = config.escalation.low_confidence.threshold if config.escalation.low_confidence \
            else DEFAULT_LOW_CONFIDENCE
        knowledge_fallback = config.knowledge.fallback_action
        actions = FALLBACK_ACTIONS | ({knowledge_fallback} if knowledge_fallback else set())
        known = {normalized(example.text) for example in project.data.nlu.examples}
        turns = await learnable_turns(request.app[PROCESSOR_KEY].store, threshold, frozenset(actions), known)
        return web.json_response({"turns": turns, "intents": teachable_intents(project), "threshold": threshold})

    async def add_example(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        project = await self._project()
        try:
            text, intent = checked_example(project, body.get("text"), body.get("intent"))
        except ExampleError as exc:
            return error(400, "BadRequest", str(exc))
        who = principal_of(request).user
        change = AddedExample(editor_file(project), text, intent, who)
        job = Job(secrets.token_hex(8), who, change.describe())
        self.jobs[job.id] = job
        for stale in list(self.jobs)[:-MAX_JOBS]:
            del self.jobs[stale]
        task = asyncio.create_task(self._run(request.app, job, change, request.remote))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"job": job.id}, status=202)

    async def _run(self, app: web.Application, job: Job, change: AddedExample, address: str | None) -> None:
        try:
            ok, details = await self.reloader.apply_change(app, change, job.by, job.progress)
        except ExampleError as exc:
            ok, details = False, {"errors": [str(exc)]}
        except Exception:
            logger.exception("editor change failed", extra={"job": job.id})
            ok, details = False, {"errors": ["the change failed; the server log says why"]}
        job.finish(ok, details)
        audit = app.get(AUDIT_KEY)
        if audit is not None:
            audit.record("nlu_example_added" if ok else "nlu_example_refused", job.by, address,
                         intent=change.intent, version=details.get("version"))

    async def job(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["job_id"])
        if job is None:
            return error(404, "NotFound", "no such job in this server process")
        return web.json_response(asdict(job))

    async def _cancel_jobs(self, _: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def add_editor(app: web.Application, project_root: Path, reloader: ContentReloader) -> EditorPage:
    page = EditorPage(project_root, reloader)
    page.add_routes(app)
    return page
