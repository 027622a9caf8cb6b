"""Which model version a server serves: activation, rollback, following other processes, and the HTTP routes.

``GET /models`` lists the versions with their results; ``POST /models/{version}/activate`` swaps one
in (a rollback is activating an older one); Rasa's ``PUT /model`` loads a version of the models folder
or an archive signed with the server's key, nothing else. Every switch is written to the registry and
published on the version channel (``helpline.model_sync``), which the other processes follow.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web

from bot.channels.rest import _json_object, _text_field, error
from bot.core.processor import BotModel, MessageProcessor
from bot.model_archive import ModelLoadError, free_archive_name, load, read_manifest
from bot.model_registry import (
    MAX_ARCHIVE_BYTES, MAX_SIGNATURE_BYTES, ModelRegistry, ModelVersion, RegistryError,
    has_valid_signature, read_regular_file, sha256_of, signature_file,
)
from bot.security.audit import audit
from bot.security.principal import principal_of
from helpline.model_sync import VersionChannel


logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
REFUSAL = ("model_file must name a model version in the models folder (GET /models lists them) or an archive "
           "signed with this server's key (helpline models sign)")


class UnknownVersion(LookupError):
    """No such version in the registry."""


class ModelVersions:
    def __init__(self, processor: MessageProcessor, registry: ModelRegistry, channel: VersionChannel,
                 keep: int = 10, secret_key: str | None = None, serving: str | None = None):
        self.processor = processor
        self.registry = registry
        self.channel = channel
        self.keep = keep
        self.secret_key = secret_key
        self.serving = serving  # the registry version this process serves (None: a model from elsewhere)
        self._switching = asyncio.Lock()
        self._failed: set[str] = set()

    # --- switching ------------------------------------------------------------------------------

    async def activate(self, version: str, who: str, pinned: bool = True) -> ModelVersion:
        """Load ``version`` (its hash checked), swap it in, make it the active version for every process."""
        entry = self.registry.get(version)
        if entry is None:
            raise UnknownVersion(version)
        async with self._switching:
            model = await asyncio.to_thread(load, self.registry.archive_path(entry), self.secret_key)
            self._swap(entry, model)
            await asyncio.to_thread(self.registry.set_active, version, who, pinned)
            await self.channel.publish(version)
        logger.info("model version activated", extra={"version": version, "by": who})
        return entry

    async def adopt(self, entry: ModelVersion, model: BotModel, who: str) -> None:
        """Swap in a version just trained and tested here (already loaded), then keep the newest ``keep``."""
        async with self._switching:
            self._swap(entry, model)
            await asyncio.to_thread(self.registry.set_active, entry.version, who, False)
            await self.channel.publish(entry.version)
        removed = await asyncio.to_thread(self.registry.prune, self.keep)
        if removed:
            logger.info("old model versions removed", extra={"versions": removed})

    def _swap(self, entry: ModelVersion, model: BotModel) -> None:
        self.processor.swap_model(model)
        self.serving = entry.version

    async def follow(self) -> None:
        """Serve whatever version another process activates (runs for the server's lifetime)."""
        while True:
            try:
                async for version in self.channel.changes():
                    await self._follow_to(version)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away or the registry is unreadable: keep serving, try again
                logger.exception("model version channel failed; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    async def _follow_to(self, version: str) -> None:
        if version == self.serving or version in self._failed:
            return
        entry = await asyncio.to_thread(self.registry.get, version)
        if entry is None:
            return  # announced before this process can see its registry entry: the next poll retries
        try:
            async with self._switching:
                model = await asyncio.to_thread(load, self.registry.archive_path(entry), self.secret_key)
                self._swap(entry, model)
            logger.info("model version followed", extra={"version": version})
        except ModelLoadError as exc:
            self._failed.add(version)
            logger.error("cannot follow model version", extra={"version": version, "error": str(exc)})

    async def catch_up(self) -> None:
        """At start: serve the version the other processes serve, or announce ours if none is published."""
        current = await self.channel.current()
        if current is None:
            await self.channel.publish(self.serving)
        elif current != self.serving and self.registry.get(current) is not None:
            entry = self.registry.get(current)
            model = await asyncio.to_thread(load, self.registry.archive_path(entry), self.secret_key)
            self._swap(entry, model)

    async def following(self, app: web.Application) -> AsyncIterator[None]:
        """``cleanup_ctx``: follow the channel while the app runs (only when serving a registry version)."""
        task = None
        if self.serving is not None:
            try:
                await self.catch_up()
            except (ModelLoadError, RegistryError, OSError) as exc:
                logger.error("cannot catch up with the published model version", extra={"error": str(exc)})
            task = asyncio.create_task(self.follow())
        yield
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await self.channel.close()

    # --- archives from a request ----------------------------------------------------------------

    def trusted_version(self, requested: str) -> ModelVersion | None:
        """A registered version named by ``requested``, or a signed archive imported into the models folder."""
        entry = self.registry.locate(requested)
        if entry is not None:
            return entry
        path = Path(requested)
        if not self.secret_key or not path.is_absolute() or "\x00" in requested:
            return None
        if read_regular_file(signature_file(path), MAX_SIGNATURE_BYTES) is None:
            return None
        data = read_regular_file(path, MAX_ARCHIVE_BYTES)
        if data is None or not has_valid_signature(path, data, self.secret_key):
            return None
        return self.import_archive(data, source=f"signed archive {path.name}")

    def import_archive(self, data: bytes, source: str) -> ModelVersion | None:
        """Copy trusted archive bytes into the models folder as a new version (named by arrival) and record them."""
        try:
            manifest = read_manifest(Path("signed archive"), data)
        except ModelLoadError:
            return None
        known = next((v for v in self.registry.versions() if v.sha256 == sha256_of(data)), None)
        if known is not None:
            return known
        if not str(manifest.get("fingerprint", "")).isalnum():
            return None
        target = free_archive_name(self.registry.models_dir, manifest["fingerprint"])
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.rename(target)
        return self.registry.add(target, manifest["fingerprint"], float(manifest.get("trained_at", time.time())),
                                 source)

    # --- HTTP ---------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/models", self.list_versions)
        app.router.add_post("/models/{version}/activate", self.activate_route)
        app.router.add_put("/model", self.replace_model)

    def listing(self) -> dict:
        active = self.registry.active
        return {"active": active, "serving": self.serving, "pinned": self.registry.pinned, "keep": self.keep,
                "versions": [{**v.as_dict(), "active": v.version == active} for v in self.registry.versions()]}

    async def list_versions(self, request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(self.listing))

    async def activate_route(self, request: web.Request) -> web.Response:
        version = request.match_info["version"]
        return await self._activate_for(request, lambda: self.registry.get(version),
                                        f"no model version '{version[:80]}' (GET /models lists them)", 404)

    async def replace_model(self, request: web.Request) -> web.Response:
        """Rasa's ``PUT /model``: the same refusal for a missing, outside or unknown file."""
        requested = _text_field(await _json_object(request), "model_file")
        return await self._activate_for(request, lambda: self.trusted_version(requested), REFUSAL, 400)

    async def _activate_for(self, request: web.Request, find, refusal: str, status: int) -> web.Response:
        entry = await asyncio.to_thread(find)
        serving = self.processor.model.fingerprint
        if entry is None:
            logger.warning("model swap refused", extra={"path": request.path})
            audit(request, "model_swap_refused", route=request.path)
            return error(status, "ModelLoadError" if status == 400 else "NotFound",
                         f"{refusal}; still serving model {serving}")
        who = principal_of(request).user
        try:
            await self.activate(entry.version, who)
        except ModelLoadError as exc:
            logger.error("model swap refused", extra={"version": entry.version, "error": str(exc)})
            audit(request, "model_swap_refused", route=request.path, version=entry.version)
            return error(400, "ModelLoadError", f"{exc}; still serving model {serving}")
        audit(request, "model_activated", version=entry.version, route=request.path)
        return web.json_response({"status": "ok", "version": entry.version, "model": entry.fingerprint})
