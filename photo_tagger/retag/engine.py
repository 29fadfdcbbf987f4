"""Re-tag a library after a model update, from the evidence each photo already has where possible.

Data flow, one batch of photos (in id order) at a time::

    photos.model_versions == current versions?  -> up to date, skipped
    features (this backbone) + detections (this detector) stored?
        yes -> Tagger.tags_from_evidence (no image, no CNN) -> compare with the stored suggestions -> write changes
        no  -> needs the images: queued as ordinary tag jobs, which the background worker runs with its progress

So a new TaggerNet head, vocabulary, hierarchy table or GloVe re-tags 100,000 photos in seconds, while a new
backbone or detector (whose evidence the library does not have) re-runs the networks in the background. Either way
only machine suggestions change: the comparison (:mod:`photo_tagger.retag.diff`) leaves every decided tag alone and
the store writes only rows still ``suggested``.

Each batch is written in its own transaction together with the photos' new model versions, so a re-tag killed
halfway leaves some photos re-tagged and the rest as they were, and running it again finishes the job.

Scoring a batch (reading its evidence, running the head, GloVe and the merge) is mostly Python per photo, so a large
library is scored by one process per core, each with its own read connection and its own copy of the models, while
this process compares and writes in photo-id order: one writer, as SQLite wants. Small libraries are scored here,
where starting processes would cost more than it saves.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from photo_tagger.pipeline.types import Detection
from photo_tagger.retag.diff import NewTag, RetagDiff, compact, compare
from photo_tagger.scanner import TAG_JOB
from photo_tagger.store.evidence import Box, MachineTags, SuggestionWrites
from photo_tagger.worker import versions_key

if TYPE_CHECKING:
    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.store import Store

log = logging.getLogger(__name__)

BATCH = 2048
# Below this many batches the library is scored in this process: starting scoring processes costs a few seconds.
PARALLEL_FROM = 4
# Re-tag jobs wait behind photos the user just added (priority 0 runs before lower numbers).
RETAG_PRIORITY = -1

Progress = Callable[[int, int], None]  # (photos done, photos in the library)


def detections_from_boxes(boxes: Sequence[Box]) -> list[Detection]:
    return [Detection(str(label), float(score), (float(x0), float(y0), float(x1), float(y1)))
            for label, score, x0, y0, x1, y1 in boxes]


def describe_versions(versions: dict[str, str] | None) -> str:
    if not versions:
        return "unknown"
    return ", ".join(f"{k}={versions[k]}" for k in sorted(versions))


@dataclass
class ScoredBatch:
    """One batch of photos scored against the current models (not yet compared with the library)."""

    needs_images: list[int] = field(default_factory=list)
    old_versions: Counter[str] = field(default_factory=Counter)
    photo_ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    tags: list[list[NewTag]] = field(default_factory=list)


def score_batch(store: Store, tagger: Tagger, target: dict[str, str], photo_ids: list[int],
                force: bool) -> ScoredBatch:
    """Read the photos' stored evidence and decide their tags from it."""
    detector = target.get("detector")
    batch = store.read_evidence(photo_ids, target["backbone"], detector)
    scored = ScoredBatch()
    rows = []
    for i, versions in enumerate(batch.model_versions):
        if versions == target and not force:
            continue  # up to date (counted by the caller), or brought up to date since it looked
        scored.old_versions[describe_versions(versions)] += 1
        if batch.features[i] is None or (detector is not None and batch.boxes[i] is None):
            scored.needs_images.append(batch.photo_ids[i])
        else:
            rows.append(i)
    if rows:
        features = np.stack([batch.features[i] for i in rows])
        found = [None if tagger.detector is None else detections_from_boxes(batch.boxes[i]) for i in rows]
        scored.tags = [compact(tags) for tags in tagger.tags_from_evidence(features, found)]
        scored.photo_ids = [batch.photo_ids[i] for i in rows]
        scored.paths = [batch.paths[i] for i in rows]
    return scored


# -- scoring processes -------------------------------------------------------------------------------------------

_child: dict[str, Any] = {}


def _start_child(recipe: dict, location: str, target: dict[str, str], force: bool) -> None:
    from threadpoolctl import threadpool_limits

    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.store import Store

    threadpool_limits(limits=1, user_api="blas")  # one process per core already
    tagger = Tagger(**recipe)
    if tagger.model_versions != target:
        raise RuntimeError(f"a scoring process built other models ({tagger.model_versions}) than {target}")
    _child.update(tagger=tagger, store=Store.open(location, migrate=False), target=target, force=force)


def _score_in_child(photo_ids: list[int]) -> ScoredBatch:
    return score_batch(_child["store"], _child["tagger"], _child["target"], photo_ids, _child["force"])


class Retagger:
    """Computes (and with ``apply=True`` writes) what the current models change in a library's suggestions."""

    def __init__(self, store: Store, tagger: Tagger, batch_size: int = BATCH, examples: int = 3,
                 workers: int | None = None, parallel_from: int = PARALLEL_FROM) -> None:
        self.store = store
        self.tagger = tagger
        self.batch_size = batch_size
        self.examples = examples
        self.workers = workers if workers is not None else tagger.settings.thread_count()
        self.parallel_from = parallel_from

    def run(self, apply: bool = False, progress: Progress | None = None, force: bool = False) -> RetagDiff:
        """Walk the library. ``force`` re-scores photos already at the current versions too (a check that the
        stored evidence reproduces the stored suggestions: it should change nothing)."""
        target = dict(self.tagger.model_versions)
        diff = RetagDiff(versions=target, applied=apply, examples=self.examples)
        photos = self.store.tagged_photo_versions()
        todo = [photo_id for photo_id, versions in photos if force or versions != target]
        diff.photos, diff.up_to_date = len(photos), len(photos) - len(todo)
        batches = [todo[start:start + self.batch_size] for start in range(0, len(todo), self.batch_size)]
        needs_images: list[int] = []
        old_versions: Counter[str] = Counter()
        if progress:
            progress(diff.up_to_date, len(photos))
        for scored in self._scored(batches, target, force):
            needs_images += scored.needs_images
            old_versions.update(scored.old_versions)
            if scored.photo_ids:
                self._compare(scored, target, diff, apply)
            if progress:
                progress(min(diff.up_to_date + diff.from_evidence + len(needs_images), len(photos)), len(photos))
        diff.needs_images = len(needs_images)
        diff.old_versions = dict(old_versions.most_common())
        if apply and needs_images:
            diff.queued = self.store.enqueue(TAG_JOB, needs_images, priority=RETAG_PRIORITY)
        return diff

    def _scored(self, batches: list[list[int]], target: dict[str, str], force: bool) -> Iterator[ScoredBatch]:
        """Scored batches in photo-id order: from one scoring process per core for a large library, else here.

        If the scoring processes cannot start or die (a frozen app without multiprocessing support, no memory), the
        batches not yet scored are scored here instead: slower, never wrong. A library in memory (tests) has nothing
        another process could open.
        """
        workers = min(self.workers, len(batches))
        in_memory = self.store.path is None and self.store.engine.url.get_backend_name() == "sqlite"
        done = 0
        if workers >= 2 and len(batches) >= self.parallel_from and not in_memory:
            try:
                for scored in self._scored_in_processes(batches, target, force, workers):
                    yield scored
                    done += 1
            except BrokenProcessPool as error:
                log.warning("re-tag scoring processes failed (%s); scoring the rest in this process", error)
        for photo_ids in batches[done:]:
            yield score_batch(self.store, self.tagger, target, photo_ids, force)

    def _scored_in_processes(self, batches: list[list[int]], target: dict[str, str], force: bool,
                             workers: int) -> Iterator[ScoredBatch]:
        self.tagger.backbone.classifier()  # cached on disk now, so the scoring processes need not import torch
        location = self.store.engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")  # safe beside the GUI's threads, and the same everywhere
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_child,
                                 initargs=(self.tagger.recipe(), location, target, force)) as pool:
            window: deque[Future[ScoredBatch]] = deque()
            try:
                for photo_ids in batches:
                    window.append(pool.submit(_score_in_child, photo_ids))
                    if len(window) >= 2 * workers:
                        yield window.popleft().result()
                while window:
                    yield window.popleft().result()
            finally:
                for future in window:
                    future.cancel()

    def _compare(self, scored: ScoredBatch, target: dict[str, str], diff: RetagDiff, apply: bool) -> None:
        diff.from_evidence += len(scored.photo_ids)

        def decide(current: dict[int, MachineTags]) -> SuggestionWrites:
            writes = SuggestionWrites()
            for photo_id, path, tags in zip(scored.photo_ids, scored.paths, scored.tags, strict=True):
                if photo_id not in current:
                    continue  # removed from the library since its evidence was read
                if compare(photo_id, path, current[photo_id], tags, diff, writes):
                    diff.changed += 1
                writes.versions[photo_id] = target
            return writes

        if apply:
            self.store.rewrite_suggestions(scored.photo_ids, decide, versions_key(target))
        else:
            decide(self.store.machine_tags(scored.photo_ids))
