"""Train a project into a versioned model archive and load it back.

An archive is a ``.tar.gz`` holding a manifest (format version, fingerprint
of the training content), the domain files as written, the NLU pipeline and
the policies. Training records the archive's sha256 in its folder's registry
(``bot.model_registry``). Loading reads the archive once into memory and
unpacks it only if those bytes hash to what was recorded, or carry a valid
signature of the server's key; then it checks everything before anything is
swapped in, so a corrupt, foreign or planted archive never replaces a working
model and nothing in it is read before it is trusted.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable

from bot.core.policies.ensemble import PolicyEnsemble
from bot.core.processor import BotModel
from bot.model_registry import (
    MAX_ARCHIVE_BYTES, ModelRegistry, RegistryError, has_valid_signature, read_regular_file,
)
from bot.nlu.interpreter import NLUInterpreter
from bot.training_data.domain_reader import load_domain
from bot.training_data.project import BotProject

logger = logging.getLogger(__name__)
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
Progress = Callable[[str, int, int], None]


class ModelLoadError(Exception):
    """The archive cannot be used; the message says why and names the file."""


def fingerprint(project: BotProject) -> str:
    """Hash of everything training reads: same content, same model."""
    digest = hashlib.sha256()
    for path in [project.config.path, *project.domain_files, *project.data_files]:
        digest.update(str(path.relative_to(project.root) if path.is_relative_to(project.root) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train(project: BotProject, output_dir: Path, progress: Progress = lambda *_: None,
          source: str = "train") -> Path:
    """Train NLU and dialogue, write the archive, record it in the folder's registry, return its path."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="helpline-train-") as tmp:
        work = Path(tmp)
        progress("nlu", 0, 1)
        NLUInterpreter.train(project.data.nlu, project.config, progress,
                             project.domain.responses).persist(work / "nlu")
        progress("dialogue", 0, 1)
        ensemble = PolicyEnsemble.from_config(project.config)
        ensemble.train(project.data.stories, project.data.rules, project.domain,
                       lambda note: progress(f"dialogue: {note}", 0, 1))
        ensemble.persist(work / "core")
        domain_dir = work / "domain"
        domain_dir.mkdir()
        for index, file in enumerate(project.domain_files):
            shutil.copy(file, domain_dir / f"{index:03d}_{file.name}")
        manifest = {"format_version": FORMAT_VERSION, "fingerprint": fingerprint(project),
                    "trained_at": time.time(), "train_seconds": round(time.time() - started, 2),
                    "project": str(project.root)}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        output_dir.mkdir(parents=True, exist_ok=True)
        archive = free_archive_name(output_dir, manifest["fingerprint"])
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for item in sorted(work.iterdir()):
                tar.add(item, arcname=item.name)
        partial.rename(archive)  # readers never see a half-written archive
    data = project.data
    ModelRegistry(output_dir).add(archive, manifest["fingerprint"], manifest["trained_at"], source, {"training": {
        "seconds": manifest["train_seconds"], "intents": len(data.nlu.intents), "examples": len(data.nlu.examples),
        "stories": len(data.stories), "rules": len(data.rules)}})
    progress("done", 1, 1)
    return archive


def free_archive_name(output_dir: Path, fingerprint_: str) -> Path:
    """``<time>-<fingerprint>.tar.gz``, waiting out the second if the same content was just trained."""
    while True:
        archive = output_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{fingerprint_}.tar.gz"
        if not archive.exists():
            return archive
        time.sleep(0.2)


def read_manifest(archive: Path, data: bytes | None = None) -> dict:
    """The manifest (JSON only: reading it unpacks nothing else)."""
    try:
        if data is None:
            data = Path(archive).read_bytes()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return json.loads(member.read())
    except (OSError, tarfile.TarError, EOFError) as error:
        raise ModelLoadError(f"{archive}: not a readable model archive ({error})") from None
    except KeyError:
        raise ModelLoadError(f"{archive}: not a Helpline model archive (no {MANIFEST})") from None
    except json.JSONDecodeError:
        raise ModelLoadError(f"{archive}: its {MANIFEST} is not valid JSON") from None


def read_trusted(archive: Path, secret_key: str | None = None) -> bytes:
    """The archive's bytes, if its folder's registry recorded their sha256 or they carry a valid signature."""
    archive = Path(archive)
    data = read_regular_file(archive, MAX_ARCHIVE_BYTES)
    if data is None:
        raise ModelLoadError(f"{archive}: not a readable model archive")
    try:
        recorded = ModelRegistry(archive.parent).verify(archive, data)
    except RegistryError as error:
        raise ModelLoadError(str(error)) from None
    if recorded is None and not has_valid_signature(archive, data, secret_key):
        raise ModelLoadError(f"{archive}: not a trusted model archive: its sha256 is not the one recorded in "
                             f"{archive.parent / 'registry.json'} when it was trained, and it carries no valid "
                             "signature (helpline models sign)")
    return data


def load(archive: Path, secret_key: str | None = None) -> BotModel:
    """Load and check a trusted archive completely; raises ModelLoadError instead of returning half a model."""
    archive = Path(archive)
    data = read_trusted(archive, secret_key)
    manifest = read_manifest(archive, data)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{archive}: model format {manifest.get('format_version')} cannot be loaded by this "
                             f"Helpline (format {FORMAT_VERSION}); retrain with `helpline train`")
    with tempfile.TemporaryDirectory(prefix="helpline-model-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                tar.extractall(work, filter="data")
            domain = load_domain(sorted((work / "domain").iterdir()))
            interpreter = NLUInterpreter.load(work / "nlu")
            ensemble = PolicyEnsemble.load(work / "core")
        except ModelLoadError:
            raise
        except Exception as error:  # any damage inside the archive: refuse it whole
            raise ModelLoadError(f"{archive}: damaged model archive ({type(error).__name__}: {error})") from None
    return BotModel(domain, interpreter, ensemble, manifest["fingerprint"])
