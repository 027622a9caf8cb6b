"""Build the running Helpline server from a project: the one place where parts are wired.

The bot gets its tracker store, custom-action runner, CRM and handoff port
here; later the voice gateway and the handoff module attach to the same
aiohttp application.
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Callable

from aiohttp import web

import bot.crm
import bot.knowledge
from bot.channels.rest import add_routes
from bot.core.actions.custom import ChainedActionRunner, HttpActionRunner, InProcessActionRunner
from bot.core.escalation import EscalationPolicy
from bot.core.handoff_port import HandoffPort, RecordingHandoffPort
from bot.core.lock_store import create_lock_store
from bot.core.processor import BotModel, MessageProcessor
from bot.core.tracker_store import create_tracker_store
from bot.crm.directory import CustomerDirectory
from bot.crm.http_directory import HttpDirectory
from bot.crm.sqlite_directory import SqliteDirectory
from bot.knowledge.base import KnowledgeBase
from bot.model_archive import fingerprint, load
from bot.model_registry import ModelRegistry
from bot.model_training import train_version
from bot.security import lockout
from bot.security.lockout import Lockout, VerificationGuard
from bot.security.lockout_stores import create_attempt_store
from bot.training_data.project import BotProject, load_project
from bot.validation import ValidationReport, require_valid
from handoff.call_history_api import CallHistoryApi
from handoff.records import create_records_store
from handoff.service import HandoffService, build_handoff
from helpline.content_reload import ContentReloader
from helpline.crash_recovery import LocalLines, recover_on_start
from helpline.security.audit import AuditLog
from helpline.model_sync import version_channel
from helpline.model_versions import ModelVersions
from helpline.editor.page import add_editor
from helpline.logs import access_log
from helpline.metrics import Operations
from helpline.security.install import install_security
from helpline.security.secrets import load_secrets
from helpline.settings import Settings, load_settings
from helpline.worker_lease import WorkerLease
from voice_gateway.auth import twilio_verifier, voice_token_verifier

logger = logging.getLogger(__name__)


def ensure_model(project: BotProject, settings: Settings, progress=lambda *_: None,
                 report_to: Callable[[ValidationReport], None] = lambda _: None) -> Path:
    """The archive to serve: the active version, unless the content changed since (then the newest
    version trained on the current content, training one if there is none).

    The content is validated first, whether or not a model for it exists: invalid content raises
    :class:`ValidationFailed` (what ``train`` refuses, ``test``, ``run`` and ``shell`` refuse too);
    ``report_to`` gets the report (warnings) of valid content. A version chosen by a rollback stays
    active until the next change is trained or activated.
    """
    report = require_valid(project)
    report_to(report)
    registry = ModelRegistry(settings.models_dir)
    current = fingerprint(project)
    active = registry.get(registry.active) if registry.active else None
    if active is not None and (active.fingerprint == current or registry.pinned):
        if active.fingerprint != current:
            logger.warning("serving the version a rollback chose; the content on disk differs",
                           extra={"version": active.version})
        return registry.archive_path(active)
    match = next((v for v in registry.versions() if v.fingerprint == current and not v.refused), None)
    if match is not None:
        return registry.archive_path(match)
    logger.info("training a model for the current content")
    entry, _ = train_version(project, settings.models_dir, progress, report=report)
    registry.set_active(entry.version, "start")
    registry.prune(settings.models_keep)
    return registry.archive_path(entry)


def configure_crm(settings: Settings) -> CustomerDirectory:
    directory = HttpDirectory(settings.crm.base_url) if settings.crm.type == "http" \
        else SqliteDirectory(settings.data_dir / "crm.sqlite3")
    bot.crm.configure(directory)
    return directory


def build_action_runner(settings: Settings) -> ChainedActionRunner:
    """The bot's custom actions: its in-process packages, then the action server of ``endpoints.yml``."""
    runners = [InProcessActionRunner(settings.action_packages, settings.project)]
    if settings.action_endpoint:
        runners.append(HttpActionRunner(settings.action_endpoint))
    return ChainedActionRunner(runners)


def build_processor(model: BotModel, settings: Settings, handoff: HandoffPort | None = None,
                    escalation: EscalationPolicy | None = None) -> MessageProcessor:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = create_tracker_store(settings.tracker_store, settings.data_dir)
    return MessageProcessor(model, store, build_action_runner(settings), handoff or RecordingHandoffPort(),
                            settings.sensitive_slots, escalation=escalation,
                            lock_store=create_lock_store(settings.lock_store, settings.lock_key_prefix))


def configure_lockout(settings: Settings, shared_store: str | None) -> VerificationGuard:
    """The per-customer verification lockout the actions use, stored beside the handoff store."""
    guard = VerificationGuard(create_attempt_store(shared_store, settings.data_dir), settings.config.verification)
    lockout.configure(guard)
    return guard


def announce_lockouts(guard: VerificationGuard, audit: AuditLog, desk) -> None:
    """A lockout is an audit line at once, and an alert on the supervisor page while it lasts."""
    def audited(locked: Lockout) -> None:
        audit.record("verification_locked", who=f"customer:{locked.customer_id}", where=locked.conversation_id,
                     failures=locked.failures, locked_until=round(locked.until))

    async def alerts() -> list[str]:
        return [f"Customer {locked.customer_id}: phone verification locked after {locked.failures} failed "
                f"checks, until {time.strftime('%H:%M UTC', time.gmtime(locked.until))}"
                for locked in await guard.lockouts()]

    guard.alerts.append(audited)
    desk.more_alerts = alerts


def open_knowledge(project_root: Path, project: BotProject, settings: Settings) -> KnowledgeBase | None:
    """The project's knowledge base, indexed and registered for ``action_knowledge``.

    Invalid articles at start-up are logged with file and line and the bot serves
    without knowledge (questions are offered to a person) until they are fixed.
    """
    knowledge = KnowledgeBase.for_project(project_root, settings.config.knowledge, settings.models_dir)
    if knowledge is not None:
        result = knowledge.reload()
        for issue in [*result.errors, *result.warnings]:
            logger.warning("knowledge article problem", extra={"problem": str(issue)})
    bot.knowledge.configure(knowledge)
    return knowledge


def build_app(project_root: Path, model_path: Path | None = None, watch: bool = False,
              agent_bridge=None, preload_voice: bool = False, settings: Settings | None = None,
              reuse_port: bool = False) -> web.Application:
    """``settings``: as loaded (and adjusted for a worker) by the caller, else read from the project;
    ``reuse_port``: the AudioSocket listener shares its port with the other workers."""
    project = load_project(project_root)
    settings = settings or load_settings(project_root, project.config)
    directory = configure_crm(settings)
    secrets = load_secrets(settings.data_dir)
    archive = Path(model_path or ensure_model(project, settings)).resolve()
    model = load(archive, secrets.secret_key)
    escalation = EscalationPolicy.from_config(settings.config.escalation)
    handoff = build_handoff(settings.config.handoff, settings.data_dir, settings.sensitive_slots, policy=escalation,
                            records=create_records_store(settings.records_store, settings.data_dir))
    guard = configure_lockout(settings, handoff.settings.store)
    processor = build_processor(model, settings, handoff.port, escalation)
    app = web.Application(client_max_size=1024 * 1024)
    app.on_startup.append(lambda _: directory.prepare())
    add_routes(app, processor)
    attach_handoff(app, handoff)
    voice = add_voice_gateway(app, processor, settings, agent_bridge or handoff.bridge, preload_voice,
                              secrets.secret_key, reuse_port, journal=handoff.journal)
    add_call_history(app, handoff, voice)
    if handoff.journal is not None and "call records" in settings.sqlite_stores():  # this process alone writes them
        app.on_startup.append(lambda _: handoff.journal.close_orphans())
    versions = model_versions(processor, settings, archive, explicit=model_path is not None,
                              shared_store=handoff.settings.store, secret_key=secrets.secret_key)
    versions.add_routes(app)
    Operations(processor, handoff.acd, versions, voice).add_routes(app)
    app.cleanup_ctx.append(versions.following)
    reloader = ContentReloader(project_root, versions, open_knowledge(project_root, project, settings))
    app.router.add_post("/model/reload", reloader.handle)
    add_editor(app, project_root, reloader)
    verifiers = {"voice": voice_token_verifier(secrets.secret_key)}
    if voice is not None:
        verifiers["twilio"] = twilio_verifier(secrets.twilio_auth_token, lambda: voice.config.twilio.public_url)
    if voice is not None and str(handoff.settings.store).startswith(("redis://", "rediss://")):
        keep_lease(app, voice, WorkerLease(handoff.settings.store, handoff.acd, processor=processor))
    elif voice is not None:  # one process on a local store: its left-over calls are closed on start
        voice.live_calls = LocalLines(settings.data_dir)
        recover_on_start(app, voice.live_calls, handoff.acd, processor)
    security = install_security(app, settings.config, settings.data_dir, handoff.settings.store, verifiers, secrets)
    app.middlewares.insert(0, access_log)  # outermost: refusals are logged too
    announce_lockouts(guard, security.audit, handoff.desk)
    handoff.supervisor_line.audit = security.audit.record
    if watch:
        async def start_watching(app: web.Application):
            task = asyncio.create_task(reloader.watch(app))
            yield
            task.cancel()

        app.cleanup_ctx.append(start_watching)

    async def close_store(_: web.Application) -> None:
        await processor.store.close()
        await processor.lock_store.close()
        await guard.close()

    app.on_cleanup.append(close_store)
    return app


def model_versions(processor: MessageProcessor, settings: Settings, archive: Path, explicit: bool,
                   shared_store: str | None, secret_key: str) -> ModelVersions:
    """The versions of ``models_dir``; the served archive becomes the active version when it is one of them.

    A model from another folder (``--model`` elsewhere) is served as given and follows no other process.
    """
    registry = ModelRegistry(settings.models_dir)
    entry = registry.locate(str(archive))
    if entry is not None and (registry.active != entry.version or explicit):
        registry.set_active(entry.version, "start", pinned=explicit or registry.pinned)
    channel = version_channel(shared_store, registry, settings.redis_prefix)
    return ModelVersions(processor, registry, channel, settings.models_keep, secret_key,
                         entry.version if entry else None)


def keep_lease(app: web.Application, voice, lease: WorkerLease) -> None:
    """This process's lease and live calls on the shared Redis; it closes the calls of processes that died."""
    voice.live_calls = lease

    async def run(app: web.Application):
        task = asyncio.create_task(lease.run())
        yield
        task.cancel()
        await lease.close()

    app.cleanup_ctx.append(run)


AGENT_BRIDGE = web.AppKey("agent_bridge", object)


def attach_handoff(app: web.Application, handoff: HandoffService) -> None:
    """Agent desk and supervisor pages, the ACD loop, and ``app[AGENT_BRIDGE]`` for the voice gateway."""
    from handoff.reports.web import ReportsPage

    handoff.attach(app)
    records = handoff.journal.store if handoff.journal is not None else None
    ReportsPage(records, handoff.acd.store, handoff.settings.config).add_routes(app)
    app[AGENT_BRIDGE] = handoff.bridge


def add_call_history(app: web.Application, handoff: HandoffService, voice) -> None:
    """The supervisors' call list and call pages over the call records, with the voice gateway's recordings."""
    if handoff.journal is None:
        return
    recordings = (lambda: voice.config.recording_dir) if voice is not None else (lambda: None)
    CallHistoryApi(handoff.journal.store, handoff.settings.config.scorecard, recordings).add_routes(app)


def add_voice_gateway(app: web.Application, processor: MessageProcessor, settings: Settings, agent_bridge=None,
                      preload: bool = False, secret_key: str = "", reuse_port: bool = False, journal=None):
    """Phone audio on the same server, where config.yml has a ``helpline: voice:`` section (``enabled: false``
    leaves it out too): a bot without one answers no calls and never loads the speech models.

    ``preload`` loads the speech models at start-up; otherwise the first call loads them. Returns the
    gateway's shared services (``voice_gateway.services.VoiceServices``), None when it is left out.
    """
    if settings.voice is None or not settings.voice.enabled:
        return None
    from voice_gateway.server import add_voice_routes

    return add_voice_routes(app, processor, settings, agent_bridge, preload=preload, secret_key=secret_key,
                            reuse_port=reuse_port, journal=journal)
