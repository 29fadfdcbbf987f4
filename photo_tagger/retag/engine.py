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
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from photo_tagger.pipeline.types import Detection
from photo_tagger.retag.diff import RetagDiff, compare
from photo_tagger.scanner import TAG_JOB
from photo_tagger.store.evidence import Box, EvidenceBatch, MachineTags, SuggestionWrites
from photo_tagger.worker import versions_key

if TYPE_CHECKING:
    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.store import Store

BATCH = 2048
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


class Retagger:
    """Computes (and with ``apply=True`` writes) what the current models change in a library's suggestions."""

    def __init__(self, store: Store, tagger: Tagger, batch_size: int = BATCH, examples: int = 3) -> None:
        self.store = store
        self.tagger = tagger
        self.batch_size = batch_size
        self.examples = examples

    def run(self, apply: bool = False, progress: Progress | None = None, force: bool = False) -> RetagDiff:
        """Walk the library. ``force`` re-scores photos already at the current versions too (a check that the
        stored evidence reproduces the stored suggestions: it should change nothing)."""
        target = dict(self.tagger.model_versions)
        backbone, detector = target["backbone"], target.get("detector")
        diff = RetagDiff(versions=target, applied=apply, examples=self.examples)
        total = self.store.tagged_photo_count()
        needs_images: list[int] = []
        old_versions: Counter[str] = Counter()
        after = 0
        while True:
            batch = self.store.read_evidence(after, self.batch_size, backbone, detector)
            if not len(batch):
                break
            after = batch.photo_ids[-1]
            rows = []
            for i, versions in enumerate(batch.model_versions):
                if versions == target and not force:
                    diff.up_to_date += 1
                    continue
                old_versions[describe_versions(versions)] += 1
                if batch.features[i] is None or (detector is not None and batch.boxes[i] is None):
                    needs_images.append(batch.photo_ids[i])
                else:
                    rows.append(i)
            diff.photos += len(batch)
            if rows:
                self._rescore(batch, rows, target, diff, apply)
            if progress:
                progress(diff.photos, max(total, diff.photos))
        diff.needs_images = len(needs_images)
        diff.old_versions = dict(old_versions.most_common())
        if apply and needs_images:
            diff.queued = self.store.enqueue(TAG_JOB, needs_images, priority=RETAG_PRIORITY)
        return diff

    def _rescore(self, batch: EvidenceBatch, rows: list[int], target: dict[str, str], diff: RetagDiff,
                 apply: bool) -> None:
        features = np.stack([batch.features[i] for i in rows])
        found = [None if self.tagger.detector is None else detections_from_boxes(batch.boxes[i]) for i in rows]
        new_tags = self.tagger.tags_from_evidence(features, found)
        ids = [batch.photo_ids[i] for i in rows]
        paths = [batch.paths[i] for i in rows]
        diff.from_evidence += len(rows)

        def decide(current: dict[int, MachineTags]) -> SuggestionWrites:
            writes = SuggestionWrites()
            for photo_id, path, tags in zip(ids, paths, new_tags, strict=True):
                if compare(photo_id, path, current[photo_id], tags, diff, writes):
                    diff.changed += 1
                writes.versions[photo_id] = target
            return writes

        if apply:
            self.store.rewrite_suggestions(ids, decide, versions_key(target))
        else:
            decide(self.store.machine_tags(ids))


def timed_run(retagger: Retagger, **kwargs) -> tuple[RetagDiff, float]:  # noqa: ANN003
    """:meth:`Retagger.run` and its wall time in seconds (the benchmark and the CLI's summary use it)."""
    started = time.perf_counter()
    diff = retagger.run(**kwargs)
    return diff, time.perf_counter() - started
