"""Train a project into a versioned model archive and load it back.

An archive is a ``.tar.gz`` holding a manifest (format version, fingerprint
of the training content), the domain files as written, the NLU pipeline and
the policies. Loading checks everything before anything is swapped in, so a
corrupt or foreign archive never replaces a working model.
"""
from __future__ import annotations

import hashlib
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
from bot.nlu.interpreter import NLUInterpreter
from bot.training_data.domain import load_domain
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


def train(project: BotProject, output_dir: Path, progress: Progress = lambda *_: None) -> Path:
    """Train NLU and dialogue, write the archive, return its path."""
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
        archive = output_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{manifest['fingerprint']}.tar.gz"
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for item in sorted(work.iterdir()):
                tar.add(item, arcname=item.name)
        partial.rename(archive)  # readers never see a half-written archive
    progress("done", 1, 1)
    return archive


def latest_archive(models_dir: Path) -> Path | None:
    archives = sorted(models_dir.glob("*.tar.gz")) if models_dir.is_dir() else []
    return archives[-1] if archives else None


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r:gz") as tar:
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


def load(archive: Path) -> BotModel:
    """Load and check an archive completely; raises ModelLoadError instead of returning half a model."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{archive}: model format {manifest.get('format_version')} cannot be loaded by this "
                             f"Helpline (format {FORMAT_VERSION}); retrain with `helpline train`")
    with tempfile.TemporaryDirectory(prefix="helpline-model-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(work, filter="data")
            domain = load_domain(sorted((work / "domain").iterdir()))
            interpreter = NLUInterpreter.load(work / "nlu")
            ensemble = PolicyEnsemble.load(work / "core")
        except ModelLoadError:
            raise
        except Exception as error:  # any damage inside the archive: refuse it whole
            raise ModelLoadError(f"{archive}: damaged model archive ({type(error).__name__}: {error})") from None
    return BotModel(domain, interpreter, ensemble, manifest["fingerprint"])
