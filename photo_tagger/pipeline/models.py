"""Model files: the manifest, where files live, whether they are present, and downloading with a sha256 check.

Weights are never unpickled: ONNX files go to ONNX Runtime and PyTorch state dicts are read with
``torch.load(weights_only=True)``. A download goes to a ``.part`` file and is renamed into place only after its digest
matched, so an interrupted or tampered download never looks like a model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from photo_tagger.config import Settings
from photo_tagger.pipeline.errors import ModelMissingError, PipelineError
from photo_tagger.resources import resources_dir

log = logging.getLogger(__name__)

# torch.hub's cache: a user who already downloaded torchvision's ResNet-50 need not download it again.
TORCH_HUB_CHECKPOINTS = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"


class DownloadError(PipelineError):
    """A model could not be downloaded or did not match its digest; the message says which and why."""


@dataclass(frozen=True)
class ModelEntry:
    """One line of ``resources/models.json``."""

    name: str
    role: str
    licence: str
    version: str
    about: str
    file: str | None = None
    url: str | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    size: int | None = None
    package: str | None = None
    optional: bool = False

    @property
    def expected_digest(self) -> str | None:
        return self.sha256 or self.sha256_prefix


@dataclass(frozen=True)
class ModelStatus:
    entry: ModelEntry
    path: Path | None
    present: bool
    detail: str


def load_manifest(path: Path | None = None) -> list[ModelEntry]:
    data = json.loads((path or resources_dir() / "models.json").read_text(encoding="utf-8"))
    return [ModelEntry(**item) for item in data["models"]]


def manifest_entry(name: str) -> ModelEntry:
    for entry in load_manifest():
        if entry.name == name:
            return entry
    raise KeyError(name)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def digest_matches(entry: ModelEntry, path: Path) -> bool:
    expected = entry.expected_digest
    return expected is None or sha256_of(path).startswith(expected)


def candidate_paths(entry: ModelEntry, settings: Settings) -> list[Path]:
    """Where a file model may already be: the models folder first, then torch hub's cache for torchvision files."""
    assert entry.file is not None
    paths = [settings.models_dir / entry.file]
    if entry.url and "download.pytorch.org" in entry.url:
        paths.append(TORCH_HUB_CHECKPOINTS / entry.file)
    return paths


def find_model_file(entry: ModelEntry, settings: Settings) -> Path | None:
    return next((p for p in candidate_paths(entry, settings) if p.is_file()), None)


def model_status(entry: ModelEntry, settings: Settings, verify: bool = False) -> ModelStatus:
    if entry.package:
        try:
            version = importlib.metadata.version(entry.package)
        except importlib.metadata.PackageNotFoundError:
            return ModelStatus(entry, None, False, f"pip install {entry.package}")
        return ModelStatus(entry, None, True, f"PyPI package {entry.package} {version}")
    path = find_model_file(entry, settings)
    if path is None:
        return ModelStatus(entry, settings.models_dir / entry.file, False, "missing: photo-tagger models fetch")
    if verify and not digest_matches(entry, path):
        return ModelStatus(entry, path, False, "sha256 mismatch: delete it and run photo-tagger models fetch")
    return ModelStatus(entry, path, True, "sha256 ok" if verify else "present")


def ensure_model_file(name: str, settings: Settings, allow_download: bool = True) -> Path:
    """The path of model ``name``, downloading it first when it is missing and downloads are allowed.

    Raises :class:`ModelMissingError` naming the file and the folder to put it in when neither works, which is what a
    user without network needs to know.
    """
    entry = manifest_entry(name)
    path = find_model_file(entry, settings)
    if path is not None:
        return path
    target = settings.models_dir / entry.file
    hint = f"download {entry.url} and put it at {target}, or run `photo-tagger models fetch {name}`"
    if not allow_download or not entry.url:
        raise ModelMissingError(name, target, hint)
    try:
        return download_model(entry, settings.models_dir)
    except DownloadError as error:
        raise ModelMissingError(name, target, f"{error}; {hint}") from error


ProgressFactory = Callable[[int | None, str], "ProgressSink"]


class ProgressSink:
    """What a download reports to: ``update(bytes)`` and ``close()``; the CLI passes a tqdm bar."""

    def update(self, amount: int) -> None:  # pragma: no cover - interface
        ...

    def close(self) -> None:  # pragma: no cover - interface
        ...


def download_model(entry: ModelEntry, folder: Path, progress: ProgressFactory | None = None,
                   timeout: float = 60.0) -> Path:
    """Download ``entry`` into ``folder`` and check its digest; a no-op when a matching file is already there."""
    if not entry.url or not entry.file:
        raise DownloadError(f"{entry.name} is not downloadable (it comes from the PyPI package {entry.package})")
    target = folder / entry.file
    if target.is_file() and digest_matches(entry, target):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(entry.url, timeout=timeout) as response, partial.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or entry.size
            bar = progress(total, entry.file) if progress else None
            while block := response.read(1 << 16):
                out.write(block)
                digest.update(block)
                if bar:
                    bar.update(len(block))
            if bar:
                bar.close()
    except OSError as error:  # URLError, timeouts and disk errors are all OSErrors
        partial.unlink(missing_ok=True)
        raise DownloadError(f"could not download {entry.name} from {entry.url}: {error}") from error
    expected = entry.expected_digest
    actual = digest.hexdigest()
    if expected and not actual.startswith(expected):
        partial.unlink(missing_ok=True)
        raise DownloadError(f"{entry.name}: downloaded file has sha256 {actual}, expected {expected}; not installed")
    partial.replace(target)
    log.info("downloaded %s to %s", entry.name, target)
    return target
