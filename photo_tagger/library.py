"""The library facade: what the CLI and the GUI call. Folders, scans, the worker, decisions, search, status.

It joins the store (SQLite), the scanner, the worker and the pipeline without either front end knowing the parts.
Everything here is plain Python: no Qt; torch and ONNX Runtime are imported only when tagging actually starts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photo_tagger.config import Settings
from photo_tagger.scanner import ScanReport, mark_paths_missing, scan_folder
from photo_tagger.store import (
    FolderInfo,
    JobState,
    PhotoInfo,
    PhotoStatus,
    PhotoTagInfo,
    SearchResult,
    Store,
)
from photo_tagger.worker import Worker, WorkerLock, WorkerProgress

if TYPE_CHECKING:
    from photo_tagger.retag import RetagDiff

log = logging.getLogger(__name__)

# How many ~word neighbours a search adds, and how close they must be.
EXPAND_NEIGHBOURS = 4
EXPAND_MIN_SIMILARITY = 0.65


class LibraryError(Exception):
    """A request the library cannot carry out (unknown photo or folder); the message says what was wrong."""


@dataclass(frozen=True)
class LibraryStatus:
    photos: dict[PhotoStatus, int]
    jobs: dict[JobState, int]
    folders: list[FolderInfo]
    errors: list[tuple[str, str]]


class Library:
    """One open library. Create with :meth:`open`; close when done (or use ``with``)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._expander = None
        self.last_xmp_report = None  # the sidecar write of the last decision (setting xmp_auto_write)

    @classmethod
    def open(cls, settings: Settings) -> Library:
        return cls(settings, Store.open(settings.library_path))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- folders ---------------------------------------------------------------------------------------------------

    def add_folder(self, path: str | Path, progress: Callable[[int], None] | None = None) -> ScanReport:
        """Register a folder (watched) and queue its photos for tagging."""
        folder_path = _absolute(path)
        if not Path(folder_path).is_dir():
            raise LibraryError(f"{folder_path} is not a folder")
        inside = [f.path for f in self.store.folders() if _is_within(folder_path, f.path)]
        if inside and folder_path not in inside:
            raise LibraryError(f"{folder_path} is inside {inside[0]}, which is already in the library")
        folder = self.store.add_folder(folder_path, watched=True)
        return scan_folder(self.store, folder, progress)

    def folder(self, path: str | Path) -> FolderInfo:
        wanted = _absolute(path)
        for folder in self.store.folders():
            if folder.path == wanted:
                return folder
        raise LibraryError(f"{wanted} is not a folder of this library (see `photo-tagger status`)")

    def remove_folder(self, path: str | Path) -> int:
        """Forget a folder and its photos' tags (the files themselves are not touched)."""
        return self.store.remove_folder(self.folder(path).id)

    def folders(self) -> list[FolderInfo]:
        return self.store.folders()

    def folder_for(self, path: str) -> FolderInfo | None:
        matches = [f for f in self.store.folders() if _is_within(path, f.path)]
        return max(matches, key=lambda f: len(f.path)) if matches else None

    # -- scanning and work -----------------------------------------------------------------------------------------

    def scan(self, path: str | Path | None = None, progress: Callable[[int], None] | None = None) -> list[ScanReport]:
        """Rescan one folder (or all): new and changed photos queued, moved ones matched, vanished ones missing."""
        folders = [self.folder(path)] if path is not None else self.store.folders()
        return [scan_folder(self.store, folder, progress) for folder in folders]

    def scan_paths(self, paths: Iterable[str]) -> list[ScanReport]:
        """Rescan just these files (from the watcher), grouped by the folder they are in."""
        by_folder: dict[int, tuple[FolderInfo, list[str]]] = {}
        for path in paths:
            folder = self.folder_for(path)
            if folder is not None:
                by_folder.setdefault(folder.id, (folder, []))[1].append(path)
        return [scan_folder(self.store, folder, only=files) for folder, files in by_folder.values()]

    def mark_missing(self, paths: Iterable[str]) -> int:
        return mark_paths_missing(self.store, paths)

    def purge_missing(self) -> int:
        """Delete the rows (and tags) of photos marked missing: the user has confirmed they are gone."""
        return self.store.delete_photos(self.store.photo_ids(PhotoStatus.MISSING))

    def worker(self, on_progress: Callable[[WorkerProgress], None] | None = None, tagger=None) -> Worker:  # noqa: ANN001
        return Worker(self.store, self.settings, tagger=tagger, on_progress=on_progress)

    def retag(self, apply: bool = False, progress: Callable[[int, int], None] | None = None,
              tagger=None) -> RetagDiff:  # noqa: ANN001 - a pipeline Tagger; built from the settings when None
        """What the current models would change in the suggestions (``apply=False``), or change it.

        Applying holds the worker lock: a worker tagging with the previous models at the same time would write their
        suggestions back. Photos whose evidence is not stored are queued for the worker (see :mod:`photo_tagger.retag`).
        """
        from photo_tagger.retag import Retagger

        if tagger is None:
            from photo_tagger.pipeline.tagger import Tagger

            tagger = Tagger(self.settings)
        retagger = Retagger(self.store, tagger)
        if not apply:
            return retagger.run(progress=progress)
        lock = WorkerLock(self.store.path or self.settings.library_path)
        lock.acquire()
        try:
            return retagger.run(apply=True, progress=progress)
        finally:
            lock.release()

    def queued(self) -> int:
        return sum(counts.get(JobState.QUEUED, 0) + counts.get(JobState.RUNNING, 0)
                   for counts in self.store.job_counts().values())

    # -- decisions -------------------------------------------------------------------------------------------------

    def photo(self, path: str | Path) -> PhotoInfo:
        photo = self.store.photo_by_path(_absolute(path))
        if photo is None:
            raise LibraryError(f"{_absolute(path)} is not in the library")
        return photo

    def decide(self, action: str, tag: str, paths: Iterable[str | Path] = (), query: str | None = None) -> int:
        """Apply ``accept``, ``reject``, ``add`` or ``remove`` for ``tag`` on photos by path or on a query's results.

        Returns how many photos changed. A query takes every result, not just the first page. With the setting
        ``xmp_auto_write``, their sidecars are written at once; failures are logged and kept in ``last_xmp_report``.
        """
        ids = [self.photo(p).id for p in paths]
        if query is not None:
            ids += self.query_ids(query)
        if not ids:
            return 0
        method = {"accept": self.store.accept, "reject": self.store.reject, "add": self.store.add_user_tag,
                  "remove": self.store.remove_tag}[action]
        changed = method(ids, tag)
        if changed and self.settings.xmp_auto_write:
            from photo_tagger.metadata import write_sidecars

            self.last_xmp_report = write_sidecars(self.store, ids, self.settings)
        return changed

    def query_ids(self, query: str, page: int = 1000) -> list[int]:
        ids: list[int] = []
        offset = 0
        while True:
            result = self.search(query, limit=page, offset=offset)
            ids += [hit.photo_id for hit in result.hits]
            offset += page
            if offset >= result.total or not result.hits:
                return ids

    # -- reading ---------------------------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50, offset: int = 0) -> SearchResult:
        """Run a query (see :mod:`photo_tagger.store.query`); raises QueryError with a position for bad input."""
        return self.store.search(query, limit=limit, offset=offset, expand=self.expand_word)

    def expand_word(self, word: str) -> list[str]:
        """``~word``: the word and its GloVe neighbours among the tags this library and the vocabulary know."""
        from photo_tagger.pipeline.types import Tag

        expander = self._glove_expander()
        neighbours = expander.expand([Tag(word, 1.0, "tagger")]) if expander else []
        return [word, *(t.name for t in neighbours)]

    def _glove_expander(self):  # noqa: ANN202
        if self._expander is None:
            from dataclasses import replace

            from photo_tagger.pipeline.glove import GloveExpander

            settings = replace(self.settings, glove_neighbours=EXPAND_NEIGHBOURS,
                               glove_min_similarity=EXPAND_MIN_SIMILARITY)
            self._expander = GloveExpander.from_settings(settings)
        return self._expander

    def tags_of(self, path: str | Path) -> tuple[PhotoInfo, list[PhotoTagInfo]]:
        photo = self.photo(path)
        return photo, self.store.photo_tags(photo.id)

    def status(self) -> LibraryStatus:
        jobs: dict[JobState, int] = dict.fromkeys(JobState, 0)
        for counts in self.store.job_counts().values():
            for state, count in counts.items():
                jobs[state] += count
        return LibraryStatus(self.store.status_counts(), jobs, self.store.folders(), self.failed_photos())

    def failed_photos(self) -> list[tuple[str, str]]:
        """(path, reason) of every photo that could not be tagged, in one query (the GUI refreshes this often)."""
        import sqlalchemy as sa

        from photo_tagger.store.schema import Photo

        with self.store.read() as session:
            rows = session.execute(
                sa.select(Photo.path, Photo.error).where(Photo.status == PhotoStatus.ERROR).order_by(Photo.path))
            return [(path, error or "") for path, error in rows]


def _absolute(path: str | Path) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
