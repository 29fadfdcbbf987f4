"""Scanning a folder: what is on disk now versus what the library knows, turned into photo rows and tag jobs.

A rescan is incremental: a file whose size and mtime match the library is not read at all; a new or changed file is
hashed (SHA-256) so that a photo moved or renamed while the app was closed is recognised by its content and keeps
its tags. Files that are gone are marked ``missing``, never deleted, and a folder that is gone or suddenly empty (an
unplugged disk, an unmounted share) is left alone entirely rather than having every photo in it marked missing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from photo_tagger.pipeline.images import is_photo_path
from photo_tagger.store import FolderInfo, PhotoFile, PhotoStatus, Store, content_hash
from photo_tagger.store import jobs as store_jobs
from photo_tagger.store import photos as store_photos

log = logging.getLogger(__name__)

TAG_JOB = "tag"
EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_DATETIME = 0x0132
EXIF_IFD = 0x8769
EXIF_ORIENTATION = 0x0112


@dataclass
class ScanReport:
    """What one folder's scan found; ``unavailable`` says why nothing was changed."""

    folder: str
    seen: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    returned: int = 0
    missing: int = 0
    unchanged: int = 0
    queued: int = 0
    unavailable: str | None = None
    unreadable: list[str] = field(default_factory=list)


def walk_photos(root: str | Path) -> Iterator[Path]:
    """Photo files below ``root``, hidden files and folders skipped, in a stable order."""
    for current, dirs, files in os.walk(root, onerror=lambda error: log.warning("cannot list %s", error)):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and is_photo_path(name):
                yield Path(current) / name


def read_photo_file(path: Path, stat: os.stat_result | None = None) -> PhotoFile:
    """Size, mtime, content hash and, from the header only, the upright size and EXIF date taken."""
    stat = stat or path.stat()
    width = height = None
    taken = None
    try:
        from PIL import Image

        with Image.open(path) as image:
            width, height = image.size
            exif = image.getexif()
            if exif.get(EXIF_ORIENTATION) in (5, 6, 7, 8):
                width, height = height, width
            raw = exif.get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL) or exif.get(EXIF_DATETIME)
            taken = _exif_datetime(raw)
    except Exception:  # noqa: BLE001 - an unreadable header is the worker's to report, with its reason
        pass
    return PhotoFile(str(path), stat.st_size, stat.st_mtime_ns, content_hash(path), width, height, taken)


def _exif_datetime(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def scan_folder(store: Store, folder: FolderInfo, progress: Callable[[int], None] | None = None,
                only: Iterable[str] | None = None) -> ScanReport:
    """Bring the library in line with the folder on disk and queue tag jobs for what needs tagging.

    ``only`` restricts the scan to some paths (the watcher's changes); without it the whole folder is walked and
    photos no longer on disk are marked missing.
    """
    report = ScanReport(folder.path)
    root = Path(folder.path)
    if not root.is_dir():
        report.unavailable = "folder not found (disconnected disk?): nothing changed"
        return report
    known = store.photo_index(folder.id)
    paths = list(walk_photos(root)) if only is None else [Path(p) for p in only]
    on_disk: dict[str, PhotoFile] = {}
    to_read: list[tuple[Path, os.stat_result]] = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue  # vanished between listing and stat: it is simply not there
        report.seen += 1
        row = known.get(str(path))
        if row is not None and (row.size, row.mtime_ns) == (stat.st_size, stat.st_mtime_ns) \
                and row.status != PhotoStatus.MISSING:
            report.unchanged += 1
            if progress:
                progress(1)
            continue
        to_read.append((path, stat))
    for path, stat in to_read:
        try:
            on_disk[str(path)] = read_photo_file(path, stat)
        except OSError as error:
            report.unreadable.append(f"{path}: {error.strerror or error}")
        if progress:
            progress(1)
    if only is None:
        present = {str(p) for p in paths}
        gone = [row.id for path, row in known.items() if path not in present and row.status != PhotoStatus.MISSING]
        if gone and not paths and known:
            report.unavailable = f"folder is empty but the library has {len(known)} photos in it (unmounted?)"
            return report
    else:
        gone = []
    _record(store, folder, list(on_disk.values()), gone, report)
    return report


def _record(store: Store, folder: FolderInfo, files: list[PhotoFile], gone: list[int], report: ScanReport) -> None:
    """One transaction: missing first (so a moved file finds its old row by hash), then upserts, then jobs."""
    with store.transaction() as session:
        if gone:
            report.missing = store_photos.mark_missing(session, gone)
        upserted = store_photos.upsert_photos(session, folder.id, files)
        report.new, report.changed = len(upserted.new), len(upserted.changed)
        report.moved, report.returned = len(upserted.moved), len(upserted.returned)
        # A moved or returned photo keeps its tags; it needs tagging only if it never was tagged.
        untagged = [pid for pid in [*upserted.moved, *upserted.returned]
                    if store_photos.get_photo(session, pid).status == PhotoStatus.NEW]
        todo = [*upserted.new, *upserted.changed, *untagged]
        if todo:
            report.queued = store_jobs.enqueue(session, TAG_JOB, todo)


def mark_paths_missing(store: Store, paths: Iterable[str]) -> int:
    """The watcher saw these files deleted: mark them missing (tags kept until purged)."""
    ids = [photo.id for path in paths if (photo := store.photo_by_path(path)) is not None]
    return store.mark_missing(ids) if ids else 0
