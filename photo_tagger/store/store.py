"""The store: one object per open library, with one short transaction per call.

``Store`` is what the library facade, the worker and the watcher use. Every method opens its own session and
transaction and returns plain values (:mod:`photo_tagger.store.records`), so a Store may be shared by threads
while no session ever is. Code that must combine steps atomically uses the session-level functions of
:mod:`~photo_tagger.store.decisions`, :mod:`~photo_tagger.store.photos` and :mod:`~photo_tagger.store.jobs`
inside ``with store.transaction() as session:``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from . import decisions, evidence, jobs, photos
from .engine import (
    DEFAULT_BUSY_TIMEOUT_S,
    StoreError,
    backup_sqlite,
    make_engine,
    sqlite_file,
    translated_errors,
    write_engine,
)
from .migrations import UpgradeReport, current_version, upgrade
from .records import (
    FolderInfo,
    InstalledModelInfo,
    JobInfo,
    PhotoFile,
    PhotoInfo,
    PhotoTagInfo,
    SuggestionChange,
    UpsertReport,
)
from .schema import JobState, PhotoStatus, TagSource, TagState
from .search import DEFAULT_LIMIT, DEFAULT_MIN_SCORE, Expander, SearchCache, SearchResult, search

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

PhotoIds = int | Iterable[int]


def _ids(photo_ids: PhotoIds) -> list[int]:
    return [photo_ids] if isinstance(photo_ids, int) else list(photo_ids)


class Store:
    """An open photo library. Create it with :meth:`open`; close it with :meth:`close` or a ``with`` block."""

    def __init__(self, engine: sa.Engine, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.engine = engine
        self.busy_timeout_s = busy_timeout_s
        self.path = sqlite_file(engine.url)
        self.where = str(self.path) if self.path else engine.url.render_as_string(hide_password=True)
        self._writer = sessionmaker(write_engine(engine), expire_on_commit=False)
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self.search_cache = SearchCache()
        self.upgrade_report: UpgradeReport | None = None

    @classmethod
    def open(
        cls,
        location: str | Path | sa.URL,
        *,
        migrate: bool = True,
        backup_dir: Path | None = None,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        echo: bool = False,
    ) -> Store:
        """Open (or create) the library at a file path or SQLAlchemy URL and migrate it to the latest schema.

        A path string is a file unless it contains ``://``; ``Settings.library_path`` fits directly.
        """
        engine = make_engine(location, busy_timeout_s=busy_timeout_s, echo=echo)
        store = cls(engine, busy_timeout_s=busy_timeout_s)
        try:
            with translated_errors(store.where, busy_timeout_s):
                if migrate:
                    store.upgrade_report = upgrade(engine, backup_dir=backup_dir)
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- sessions --------------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back on an exception. Keep it short.

        On SQLite it begins with ``BEGIN IMMEDIATE``, so it waits (up to the busy timeout) for another writer
        at the start rather than failing halfway through. Driver errors leave it as :class:`StoreError`.
        """
        with translated_errors(self.where, self.busy_timeout_s), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction: one consistent snapshot, which never blocks (or waits for) the writer."""
        with translated_errors(self.where, self.busy_timeout_s), self._reader() as session, session.begin():
            yield session

    def schema_version(self) -> int:
        with self.read() as session:
            return current_version(session.connection())

    def backup(self, destination: str | Path) -> Path:
        """Copy the library to ``destination`` while it is in use (SQLite only)."""
        if self.path is None:
            raise StoreError(f"{self.where} is not a SQLite file; back it up with the database's own tools.")
        with translated_errors(self.where, self.busy_timeout_s):
            return backup_sqlite(self.engine, Path(destination))

    # -- folders ---------------------------------------------------------------------------------------------

    def add_folder(self, path: str, watched: bool = True) -> FolderInfo:
        with self.transaction() as session:
            return photos.add_folder(session, path, watched)

    def folders(self) -> list[FolderInfo]:
        with self.read() as session:
            return photos.folders(session)

    def set_folder_watched(self, folder_id: int, watched: bool) -> None:
        with self.transaction() as session:
            photos.set_folder_watched(session, folder_id, watched)

    def remove_folder(self, folder_id: int) -> int:
        with self.transaction() as session:
            return photos.remove_folder(session, folder_id)

    # -- photos ----------------------------------------------------------------------------------------------

    def upsert_photos(self, folder_id: int, files: Iterable[PhotoFile]) -> UpsertReport:
        with self.transaction() as session:
            return photos.upsert_photos(session, folder_id, files)

    def photo_index(self, folder_id: int) -> dict[str, photos.PhotoStat]:
        with self.read() as session:
            return photos.photo_index(session, folder_id)

    def get_photo(self, photo_id: int) -> PhotoInfo | None:
        with self.read() as session:
            return photos.get_photo(session, photo_id)

    def photo_by_path(self, path: str) -> PhotoInfo | None:
        with self.read() as session:
            return photos.photo_by_path(session, path)

    def photos_by_hash(self, content_hash: str) -> list[PhotoInfo]:
        with self.read() as session:
            return photos.photos_by_hash(session, content_hash)

    def photo_ids(self, status: PhotoStatus | None = None, folder_id: int | None = None) -> list[int]:
        with self.read() as session:
            return photos.photo_ids(session, status, folder_id)

    def status_counts(self) -> dict[PhotoStatus, int]:
        with self.read() as session:
            return photos.status_counts(session)

    def mark_missing(self, photo_ids: PhotoIds) -> int:
        with self.transaction() as session:
            return photos.mark_missing(session, _ids(photo_ids))

    def delete_photos(self, photo_ids: PhotoIds) -> int:
        with self.transaction() as session:
            return photos.delete_photos(session, _ids(photo_ids))

    def record_tagging(
        self,
        photo_id: int,
        tags: Iterable[decisions.Suggestion],
        model_version: str | None,
        *,
        model_versions: dict[str, str] | None = None,
        features: np.ndarray | None = None,
        backbone_version: str | None = None,
        width: int | None = None,
        height: int | None = None,
        job_id: int | None = None,
        detections: tuple[str, Sequence[evidence.Box]] | None = None,
    ) -> SuggestionChange:
        """The worker's write for one photo, atomically: suggestions, features, detections (``(detector version,
        boxes)``), status ``tagged`` and, when given, the job marked done, so a crash leaves either all of it or none
        (the job then runs again)."""
        with self.transaction() as session:
            if job_id is not None:
                jobs.complete_job(session, job_id)
            change = decisions.set_suggestions(session, photo_id, tags, model_version)
            if features is not None:
                if backbone_version is None:
                    raise ValueError("features need the backbone_version that produced them")
                photos.save_features(session, photo_id, backbone_version, features)
            if detections is not None:
                evidence.save_detections(session, photo_id, *detections)
            photos.mark_tagged(session, photo_id, model_versions, width=width, height=height)
            return change

    def record_error(self, photo_id: int, reason: str, job_id: int | None = None) -> None:
        """A permanent failure (the file is not a readable photo): recorded with its reason, the job done."""
        with self.transaction() as session:
            photos.mark_error(session, photo_id, reason)
            if job_id is not None:
                jobs.complete_job(session, job_id)

    # -- tags and decisions ----------------------------------------------------------------------------------

    def set_suggestions(
        self, photo_id: int, tags: Iterable[decisions.Suggestion], model_version: str | None
    ) -> SuggestionChange:
        """Replace machine suggestions only; see :func:`photo_tagger.store.decisions.set_suggestions`."""
        with self.transaction() as session:
            return decisions.set_suggestions(session, photo_id, tags, model_version)

    def accept(self, photo_ids: PhotoIds, tag: str) -> int:
        with self.transaction() as session:
            return decisions.accept(session, _ids(photo_ids), tag)

    def reject(self, photo_ids: PhotoIds, tag: str) -> int:
        with self.transaction() as session:
            return decisions.reject(session, _ids(photo_ids), tag)

    def add_user_tag(self, photo_ids: PhotoIds, tag: str) -> int:
        with self.transaction() as session:
            return decisions.add_user_tag(session, _ids(photo_ids), tag)

    def remove_tag(self, photo_ids: PhotoIds, tag: str) -> int:
        with self.transaction() as session:
            return decisions.remove_tag(session, _ids(photo_ids), tag)

    def photo_tags(self, photo_id: int) -> list[PhotoTagInfo]:
        with self.read() as session:
            return decisions.photo_tags(session, photo_id)

    def decided_tags(self) -> list[tuple[int, str, TagState, TagSource]]:
        with self.read() as session:
            return decisions.decided_tags(session)

    def suggested_photos(self, names: Iterable[str]) -> dict[str, set[int]]:
        with self.read() as session:
            return decisions.suggested_photos(session, names)

    def tag_names(self, prefix: str = "", limit: int = 20) -> list[str]:
        with self.read() as session:
            return decisions.tag_names(session, prefix, limit)

    # -- search ----------------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
        min_score: float = DEFAULT_MIN_SCORE,
        expand: Expander | None = None,
    ) -> SearchResult:
        """Run a query of the search language (:mod:`photo_tagger.store.query`), or raise QueryError."""
        with self.read() as session:
            return search(
                session, query, limit=limit, offset=offset, min_score=min_score, expand=expand,
                cache=self.search_cache,
            )  # fmt: skip

    # -- features --------------------------------------------------------------------------------------------

    def save_features(self, photo_id: int, backbone_version: str, vector: np.ndarray) -> None:
        with self.transaction() as session:
            photos.save_features(session, photo_id, backbone_version, vector)

    def load_features(self, photo_ids: PhotoIds, backbone_version: str) -> dict[int, np.ndarray]:
        with self.read() as session:
            return photos.load_features(session, _ids(photo_ids), backbone_version)

    def photos_with_features(self, backbone_version: str) -> list[int]:
        with self.read() as session:
            return photos.photos_with_features(session, backbone_version)

    def read_evidence(self, photo_ids: Sequence[int], backbone_version: str,
                      detector_version: str | None) -> evidence.EvidenceBatch:
        """The tagged photos among ``photo_ids`` with their stored features and detections (for a re-tag)."""
        with self.read() as session:
            return evidence.read_evidence(session, photo_ids, backbone_version, detector_version)

    def tagged_photo_versions(self) -> list[tuple[int, dict[str, str] | None]]:
        with self.read() as session:
            return evidence.tagged_photo_versions(session)

    def machine_tags(self, photo_ids: Sequence[int]) -> dict[int, evidence.MachineTags]:
        """Each photo's current machine suggestions and decided tag names (a re-tag's dry run compares with these)."""
        with self.read() as session:
            return evidence.machine_tags(session, photo_ids)

    def rewrite_suggestions(self, photo_ids: Sequence[int],
                            decide: Callable[[dict[int, evidence.MachineTags]], evidence.SuggestionWrites],
                            model_version: str) -> evidence.SuggestionWrites:
        """A re-tag's write for a batch of photos, in one transaction: read their current suggestions, let
        ``decide`` say what changes, write it. Reading inside the write transaction means a decision the user makes
        meanwhile is either seen by ``decide`` or made after the batch is written, never lost between the two."""
        with self.transaction() as session:
            writes = decide(evidence.machine_tags(session, photo_ids))
            evidence.write_suggestions(session, writes, model_version)
            return writes

    def tagged_photo_count(self) -> int:
        with self.read() as session:
            return evidence.tagged_photo_count(session)

    # -- jobs ------------------------------------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        photo_ids: PhotoIds | None = None,
        *,
        payload: dict[str, Any] | None = None,
        priority: int = 0,
        dedupe: bool = True,
    ) -> int:
        with self.transaction() as session:
            ids = None if photo_ids is None else _ids(photo_ids)
            return jobs.enqueue(session, kind, ids, payload=payload, priority=priority, dedupe=dedupe)

    def claim_jobs(self, n: int, kinds: Iterable[str] | None = None) -> list[JobInfo]:
        """Atomically move up to ``n`` queued jobs to running and return them (see :mod:`.jobs`)."""
        with self.transaction() as session:
            return jobs.claim_jobs(session, n, kinds)

    def complete_job(self, job_id: int) -> None:
        with self.transaction() as session:
            jobs.complete_job(session, job_id)

    def fail_job(
        self, job_id: int, error: str, *, retry: bool = True, max_attempts: int = jobs.DEFAULT_MAX_ATTEMPTS
    ) -> JobState:
        with self.transaction() as session:
            return jobs.fail_job(session, job_id, error, retry=retry, max_attempts=max_attempts)

    def requeue_stale_running(
        self, *, older_than: timedelta | None = None, max_attempts: int = jobs.DEFAULT_MAX_ATTEMPTS
    ) -> int:
        with self.transaction() as session:
            return jobs.requeue_stale_running(session, older_than=older_than, max_attempts=max_attempts)

    def job_counts(self) -> dict[str, dict[JobState, int]]:
        with self.read() as session:
            return jobs.job_counts(session)

    def purge_jobs(self, states: Iterable[JobState] = (JobState.DONE,), older_than: timedelta | None = None) -> int:
        with self.transaction() as session:
            return jobs.purge_jobs(session, states, older_than)

    # -- installed models ------------------------------------------------------------------------------------

    def set_installed_model(self, name: str, version: str) -> None:
        with self.transaction() as session:
            photos.set_installed_model(session, name, version)

    def installed_models(self) -> dict[str, InstalledModelInfo]:
        with self.read() as session:
            return photos.installed_models(session)
