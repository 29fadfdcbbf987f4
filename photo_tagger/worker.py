"""The background worker: tag jobs from the library's queue -> the pipeline -> results back in the library.

Crash safety comes from the database, not from care in this loop: a job is claimed (``running``) in one
transaction, and its result is written in another transaction that also marks the job ``done``. Killed at any
moment, the worker leaves each job either done with its result stored, or still ``running`` with nothing stored;
the next start puts those back in the queue. So nothing is lost and nothing is recorded twice.

Only one worker may run per library (a lock file beside it): a second process waiting on the same queue would only
fight for the single SQLite writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photo_tagger.config import Settings
from photo_tagger.scanner import TAG_JOB
from photo_tagger.store import JobInfo, JobState, PhotoInfo, Store, StoreError
from photo_tagger.thumbnails import thumbnail_path, write_thumbnail

if TYPE_CHECKING:
    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.pipeline.types import PhotoResult

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class WorkerBusyError(RuntimeError):
    """Another process is already working on this library's queue."""


@dataclass(frozen=True)
class WorkerProgress:
    """One progress event: ``done`` of ``total`` photos handled this run (``failed`` of them could not be tagged),
    with the rate (photos/s) and ETA (seconds)."""

    done: int
    total: int
    failed: int
    rate: float
    eta_s: float | None
    current: str | None = None
    finished: bool = False


def versions_key(model_versions: dict[str, str]) -> str:
    """A short stable id for a set of model versions, stored on each suggestion (the full set is on the photo)."""
    canonical = json.dumps(model_versions, sort_keys=True)
    return "mv-" + hashlib.sha1(canonical.encode()).hexdigest()[:10]


class WorkerLock:
    """An advisory lock file beside the library; released when the process dies, however it dies."""

    def __init__(self, library_path: Path) -> None:
        self.path = Path(str(library_path) + ".worker.lock")
        self._handle = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WorkerBusyError(f"another photo-tagger process is working on this library ({self.path})") from None
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the flock
            self._handle = None


class Worker:
    """Runs tag jobs until the queue is empty (``wait=True``) or until ``stop()``; reports progress by callback.

    ``on_progress`` is called on the worker's thread; the GUI bridges it into a Qt signal.
    """

    def __init__(self, store: Store, settings: Settings, tagger: Tagger | None = None,
                 on_progress: Callable[[WorkerProgress], None] | None = None, make_thumbnails: bool = True) -> None:
        self.store = store
        self.settings = settings
        self._tagger = tagger
        self.on_progress = on_progress
        self.make_thumbnails = make_thumbnails
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.done = self.failed = 0
        self._versions_recorded = False

    @property
    def tagger(self) -> Tagger:
        if self._tagger is None:
            from photo_tagger.pipeline.tagger import Tagger

            self._tagger = Tagger(self.settings)
        if not self._versions_recorded:
            # The library remembers which model versions are installed, so a model update can be noticed later.
            installed = self.store.installed_models()
            for name, version in self._tagger.model_versions.items():
                if name not in installed or installed[name].version != version:
                    self.store.set_installed_model(name, version)
            self._versions_recorded = True
        return self._tagger

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def run(self, wait: bool = True, idle_poll: float = 0.5) -> WorkerProgress:
        """Work through the queue. ``wait=True``: return when it is empty; else keep polling until :meth:`stop`."""
        lock = WorkerLock(self.settings.library_path if self.store.path is None else self.store.path)
        lock.acquire()
        try:
            requeued = self.store.requeue_stale_running(max_attempts=MAX_ATTEMPTS)
            if requeued:
                log.info("requeued %d jobs left running by a previous run", requeued)
            return self._loop(wait, idle_poll)
        finally:
            lock.release()

    def _queued(self) -> int:
        return self.store.job_counts().get(TAG_JOB, {}).get(JobState.QUEUED, 0)

    def _loop(self, wait: bool, idle_poll: float) -> WorkerProgress:
        workers = self.settings.thread_count()
        started = time.monotonic()
        total = self._queued()
        progress = WorkerProgress(0, total, 0, 0.0, None)
        from photo_tagger.pipeline.tagger import single_threaded_blas

        with single_threaded_blas(), ThreadPoolExecutor(workers, thread_name_prefix="worker") as pool:
            in_flight: deque[tuple[JobInfo, PhotoInfo | None, Future[PhotoResult] | None]] = deque()
            while not self._stop.is_set():
                self._running.wait()
                if len(in_flight) < 2 * workers:
                    for job in self.store.claim_jobs(2 * workers - len(in_flight), kinds=[TAG_JOB]):
                        in_flight.append(self._submit(pool, job))
                if not in_flight:
                    if wait:
                        break
                    self._stop.wait(idle_poll)
                    total = self.done + self.failed + self._queued()
                    continue
                job, photo, future = in_flight.popleft()
                self._finish(job, photo, future)
                total = max(total, self.done + self.failed + self._queued() + len(in_flight))
                progress = self._progress(total, started, photo.path if photo else None)
            # Stopping: let claimed work finish and be written, so a clean stop leaves no job running.
            while in_flight:
                self._finish(*in_flight.popleft())
        progress = self._progress(total, started, None, finished=True)
        return progress

    def _progress(self, total: int, started: float, current: str | None, finished: bool = False) -> WorkerProgress:
        handled = self.done + self.failed
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = handled / elapsed
        remaining = max(total - handled, 0)
        progress = WorkerProgress(handled, max(total, handled), self.failed, rate,
                                  remaining / rate if rate > 0 else None, current, finished)
        if self.on_progress:
            self.on_progress(progress)
        return progress

    def _submit(self, pool: ThreadPoolExecutor, job: JobInfo):  # noqa: ANN202
        photo = self.store.get_photo(job.photo_id) if job.photo_id is not None else None
        if photo is None:
            return job, None, None
        on_decoded = None
        if self.make_thumbnails and photo.content_hash:
            target = thumbnail_path(self.settings.cache_dir, photo.content_hash)
            if not target.exists():
                def on_decoded(image, target=target):  # noqa: ANN001, ANN202
                    write_thumbnail(image, target)
        return job, photo, pool.submit(self.tagger.tag_photo, photo.path, True, on_decoded)

    def _finish(self, job: JobInfo, photo: PhotoInfo | None, future: Future[PhotoResult] | None) -> None:
        try:
            if photo is None or future is None:
                self.store.complete_job(job.id)  # the photo was removed from the library meanwhile
                return
            result = future.result()
            self._write(job, photo, result)
        except StoreError as error:  # the database is busy or full: the job stays for another try
            log.warning("could not record %s: %s", photo.path if photo else job.id, error)
            self._safe_fail(job, str(error))

    def _write(self, job: JobInfo, photo: PhotoInfo, result: PhotoResult) -> None:
        # Check again before recording: the file may have gone while the job waited in the queue.
        if result.error and not os.path.exists(photo.path):
            self.store.mark_missing([photo.id])
            self.store.complete_job(job.id)
            return
        if result.error and result.transient:
            state = self.store.fail_job(job.id, result.error, retry=True, max_attempts=MAX_ATTEMPTS)
            if state == JobState.FAILED:
                self.failed += 1
                self.store.record_error(photo.id, result.error)
            return
        if result.error:
            self.failed += 1
            self.store.record_error(photo.id, result.error, job_id=job.id)
            return
        if photo.tagged_at is None and self.settings.import_keywords:
            # First meeting: keywords from other tools become user tags. Before the result, so a crash in between
            # repeats an import that changes nothing the second time, and no suggestion exists yet to be accepted.
            from photo_tagger.metadata import import_photo_keywords

            import_photo_keywords(self.store, photo, self.settings)
        versions = result.model_versions
        detections = None
        if result.found is not None and "detector" in versions:
            detections = (versions["detector"], [[d.label, float(d.score), *map(float, d.box)] for d in result.found])
        self.store.record_tagging(
            photo.id, result.tags, versions_key(versions), model_versions=versions,
            features=result.features, backbone_version=versions.get("backbone"),
            width=result.width, height=result.height, job_id=job.id, detections=detections,
        )  # fmt: skip
        self.done += 1

    def _safe_fail(self, job: JobInfo, error: str) -> None:
        try:
            self.store.fail_job(job.id, error, retry=True, max_attempts=MAX_ATTEMPTS)
        except StoreError:
            log.exception("could not record the failure of job %s; it will be retried after a restart", job.id)
