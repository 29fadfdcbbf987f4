"""The paper's whole system for a stream of photos: TaggerNet stage + COCO detector + GloVe neighbours.

Data flow per photo::

    path --decode (JPEG draft)--> DecodedImage --+--> backbone crop --> backbone --> features, ImageNet probs
                                                 |                                 --> hierarchy tags (TaggerNet stage)
                                                 +--> letterbox ------> detector --> object tags, boxes
                                                   features + hierarchy + boxes --> trained head: vocabulary tags
                                                                                   --> GloVe neighbours of tagger tags
                                                                                   --> merge (best score, all sources)

The trained head (:mod:`~photo_tagger.pipeline.taggernet`) owns the tags of its vocabulary: for those it merges the
head's, the hierarchy's and the detector's calibrated evidence and applies per-tag thresholds, so the hierarchy's
and detector's raw tags of the same names are left out. Their other tags (``golden retriever``, ``person``) stay.

Each photo goes through the whole chain on one worker thread, one worker per core, and every step of it (Pillow's
decode and resize, ONNX Runtime's run) releases the GIL. With single-threaded networks this keeps every core busy
with no hand-offs: measured on 2 cores it beats batching the backbone with decoding on a separate pool, because ONNX
Runtime's own thread pool then fights the decoders for the same cores. A photo that cannot be read becomes a
:class:`PhotoResult` with ``error`` set; the stream goes on.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from photo_tagger.config import DEFAULT_THRESHOLDS, Settings
from photo_tagger.pipeline.backbones.runtime import Backbone
from photo_tagger.pipeline.detector import YoloxDetector, preprocess, read_class_names, tags_from_detections
from photo_tagger.pipeline.errors import PipelineError
from photo_tagger.pipeline.glove import GloveExpander, GloveVectors, load_vocabulary
from photo_tagger.pipeline.hierarchy import ImageNetHierarchy
from photo_tagger.pipeline.images import ImageDecodeError, load_image
from photo_tagger.pipeline.models import find_model_file, manifest_entry
from photo_tagger.pipeline.taggernet import CARD_FILE, TaggerNetHead, default_head_dir
from photo_tagger.pipeline.types import Detection, MergedTag, PhotoResult, Tag

log = logging.getLogger(__name__)

SOURCE_ORDER = ("tagger", "detector", "glove")


def merge_tags(tags: Iterable[Tag]) -> list[MergedTag]:
    """Merge one photo's tags by name: the best score and its source win, every source is listed.

    Example: ``dog`` at 0.93 from the detector and 0.71 from the tagger -> ``dog`` 0.93, source ``detector``,
    sources ``("tagger", "detector")``. A GloVe tag keeps its parent only while GloVe is its best source.
    """
    best: dict[str, Tag] = {}
    sources: dict[str, set[str]] = {}
    for tag in tags:
        sources.setdefault(tag.name, set()).add(tag.source)
        if tag.name not in best or tag.score > best[tag.name].score:
            best[tag.name] = tag
    merged = [
        MergedTag(
            name=name,
            score=min(1.0, max(0.0, float(tag.score))),
            source=tag.source,
            sources=tuple(s for s in SOURCE_ORDER if s in sources[name]),
            parent=tag.parent if tag.source == "glove" else None,
        )
        for name, tag in best.items()
    ]
    merged.sort(key=lambda t: (-t.score, t.name))
    return merged


def single_threaded_blas():  # noqa: ANN201 - a context manager
    """Keep NumPy's BLAS to one thread while photos are tagged one per core.

    The head's and GloVe's small matrix products would otherwise wake OpenBLAS's thread pool on every call, and its
    spinning threads then fight the single-threaded networks for the same cores: measured on 2 cores, 30 photos/s
    instead of 42.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class Tagger:
    """Tags photos with every available stage; build one per process and reuse it (models load once, lazily).

    A missing detector file switches that stage off and adds one line to :attr:`notices` (the CLI prints it once).
    """

    def __init__(self, settings: Settings, use_detector: bool = True, use_glove: bool = True,
                 backbone_runtime: str = "onnx", use_head: bool = True, head_path: Path | None = None) -> None:
        self.settings = settings
        self.notices: list[str] = []
        self.backbone = Backbone.from_settings(settings, backbone_runtime, threads=1)
        self.hierarchy = ImageNetHierarchy.load()
        self.head = self._make_head(head_path) if use_head else None
        self.detector = self._make_detector() if use_detector else None
        self.glove = self._make_glove() if use_glove else None
        self.min_side = max(self.backbone.spec.resize_size, 320)

    def _make_head(self, path: Path | None) -> TaggerNetHead | None:
        """The trained head: ``path`` or ``settings.head_path`` if given, else the library's personal head, else the
        shipped one (``resources/taggernet``).

        A head asked for explicitly that cannot serve switches the stage off with a notice; a personal head that
        cannot serve falls back to the shipped head with a notice.
        """
        from photo_tagger.heads import active_head_dir

        explicit = path if path is not None else self.settings.head_path
        if explicit is not None:
            candidates = [Path(explicit)]
        else:
            personal = active_head_dir(self.settings)
            candidates = ([personal] if personal is not None else []) + [default_head_dir()]
        for folder in candidates:
            try:
                head = TaggerNetHead.load(folder)
            except (OSError, ValueError, KeyError) as error:
                self.notices.append(f"TaggerNet head {folder} not used: cannot read it ({error})")
                continue
            if head.backbone != self.backbone.name:
                self.notices.append(f"TaggerNet head {folder} not used: it was trained on {head.backbone} features, "
                                    f"not {self.backbone.name}")
                continue
            self._notice_outdated_personal_head(head)
            return head
        self.notices.append("trained TaggerNet head off: no usable head")
        return None

    def _notice_outdated_personal_head(self, head: TaggerNetHead) -> None:
        """A personal head carries a copy of the shipped head it was learned on; after an update of the shipped head
        it still tags with the old one until the user learns again."""
        base = head.card.get("personal", {}).get("base")
        if base is None:
            return
        try:
            shipped = json.loads((default_head_dir() / CARD_FILE).read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            return
        if base != shipped:
            self.notices.append(f"your personal head was learned on top of {base}; the shipped head is now {shipped}: "
                                "run `photo-tagger learn` again to learn on top of the new one")

    def _make_detector(self) -> YoloxDetector | None:
        model = find_model_file(manifest_entry("yolox_nano"), self.settings)
        labels = find_model_file(manifest_entry("coco_classes"), self.settings)
        if model is None or labels is None:
            missing = "yolox_nano.onnx" if model is None else "coco_classes.txt"
            self.notices.append(
                f"object detector off: {missing} is not in {self.settings.models_dir} "
                "(run `photo-tagger models fetch` to download it)"
            )
            return None
        return YoloxDetector(model, read_class_names(labels), threads=1)

    def _make_glove(self) -> GloveExpander:
        """GloVe neighbours restricted to words the visual models cannot judge themselves.

        A neighbour that names an ImageNet tag or a COCO class ("cat" next to "dog") is a claim the classifier and
        the detector have already looked for and not made; adding it from word statistics alone turns every dog
        photo into a cat photo. The zero-shot tags the paper wants are the words beyond the visual vocabulary
        ("puppy", "leash", "meadow"), so those are the only ones GloVe may add.
        """
        visual = set(self.hierarchy.tag_names)
        if self.head is not None:
            visual.update(self.head.words)
        if self.detector is not None:
            visual.update(self.detector.class_names)
        vocabulary = [word for word in load_vocabulary() if word not in visual]
        return GloveExpander(GloveVectors.from_settings(self.settings), vocabulary,
                             neighbours=self.settings.glove_neighbours,
                             min_similarity=self.settings.glove_min_similarity)

    def recipe(self) -> dict:
        """Keyword arguments that build the same tagger in another process (the re-tag scores in several)."""
        return {"settings": self.settings, "use_detector": self.detector is not None,
                "use_glove": self.glove is not None, "use_head": self.head is not None,
                "head_path": self.head.folder if self.head is not None else None}

    @functools.cached_property
    def model_versions(self) -> dict[str, str]:
        """Every part that decides a photo's tags, with its version; stored on each photo, so a re-tag knows which
        photos an update concerns. The thresholds count too: changing one is re-tagged like a new model."""
        versions = {"backbone": self.backbone.version, "tagger": self.hierarchy.version}
        if self.head is not None:
            versions["head"] = self.head.version
            versions["vocabulary"] = self.head.vocabulary_version
        thresholds = self.settings.thresholds
        versions["thresholds"] = "-".join(f"{source}{thresholds[source]:g}" for source in sorted(thresholds))
        if self.detector is not None:
            versions["detector"] = self.detector.version
        if self.glove is not None:
            versions["glove"] = self.glove.version
        return versions

    # -- the stream ------------------------------------------------------------------------------------------------

    def tag_paths(self, paths: Iterable[str | Path], progress: Callable[[int], None] | None = None,
                  keep_features: bool = False) -> Iterator[PhotoResult]:
        """Tag photos, yielding one result per path in the order given; ``progress(1)`` is called per photo."""
        workers = self.settings.thread_count()
        with single_threaded_blas(), ThreadPoolExecutor(workers, thread_name_prefix="tagger") as pool:
            window: deque[Future[PhotoResult]] = deque()
            for path in paths:
                window.append(pool.submit(self.tag_photo, str(path), keep_features))
                # A few photos in flight per worker keeps the cores busy and memory bounded.
                if len(window) >= 3 * workers:
                    yield self._collect(window.popleft(), progress)
            while window:
                yield self._collect(window.popleft(), progress)

    @staticmethod
    def _collect(future: Future[PhotoResult], progress: Callable[[int], None] | None) -> PhotoResult:
        result = future.result()
        if progress:
            progress(1)
        return result

    def tag_photo(self, path: str, keep_features: bool = False,
                  on_decoded: Callable[[Image.Image], None] | None = None) -> PhotoResult:
        """Tag one photo on the calling thread; never raises for a bad photo or a failing model.

        ``on_decoded`` sees the decoded, upright image (the worker makes the thumbnail from it: no second decode).
        A model failure is not the photo's fault: its result has ``transient`` set so the worker retries it.
        """
        try:
            decoded = load_image(path, min_side=self.min_side)
        except ImageDecodeError as error:
            return PhotoResult(path, error=error.reason)
        try:
            if on_decoded is not None:
                on_decoded(decoded.image)
            result = self._tag_decoded(path, decoded.image, (decoded.width, decoded.height), keep_features)
        except (PipelineError, OSError) as error:
            return PhotoResult(path, error=str(error), transient=True)
        result.model_versions = dict(self.model_versions)
        return result

    def _tag_decoded(self, path: str, image, size: tuple[int, int], keep_features: bool) -> PhotoResult:  # noqa: ANN001
        features, _ = self.backbone.run([self.backbone.prepare(image)])
        found = None
        if self.detector is not None:
            letterbox, ratio = preprocess(image)
            found = self.detector.detect_prepared([letterbox], [ratio], [image.size], [size])[0]
        tags = self.tags_from_evidence(features, [found])[0]
        threshold = self.settings.thresholds["detector"]
        return PhotoResult(
            path=path,
            tags=tags,
            detections=[d for d in found or () if d.score >= threshold],
            found=found,
            features=features[0].copy() if keep_features else None,
            width=size[0],
            height=size[1],
        )

    def tags_from_evidence(self, features: np.ndarray, found: Sequence[Sequence[Detection] | None]
                           ) -> list[list[MergedTag]]:
        """Each photo's merged tags from its evidence: backbone features ``[N, D]`` and what the detector found.

        Everything after the two networks happens here, for tagging a new photo and for re-tagging a library from
        stored evidence alike, so both give the same tags. ``found[i]`` is None when the detector was off for photo i.
        The ImageNet probabilities come from the features through the backbone's last layer (not from the compiled
        graph's own output) for the same reason.
        """
        thresholds = self.settings.thresholds
        features = np.atleast_2d(np.asarray(features, dtype=np.float32))
        hierarchy_scores = self.hierarchy.scores(self.backbone.probabilities(features))
        tagger_tags = self.hierarchy.tags_from_scores(hierarchy_scores, min_score=thresholds["tagger"])
        object_tags = [tags_from_detections([d for d in boxes or () if d.score >= thresholds["detector"]],
                                            min_score=thresholds["detector"]) for boxes in found]
        if self.head is not None:
            owned = self.head.index
            # The head's per-tag thresholds are the default; a tagger threshold set away from the default
            # (PHOTO_TAGGER_THRESHOLD_TAGGER, --min-score) is the user's call and applies to every tagger tag.
            override = thresholds["tagger"] if thresholds["tagger"] != DEFAULT_THRESHOLDS["tagger"] else None
            head_tags = self._head_tags(features, hierarchy_scores, found, override)
            for i, photo_tags in enumerate(head_tags):
                tagger_tags[i] = [t for t in photo_tags if t.source == "tagger"] + [
                    t for t in tagger_tags[i] if t.name not in owned]
                object_tags[i] = [t for t in object_tags[i] if t.name not in owned] + [
                    t for t in photo_tags if t.source == "detector"]
        glove_tags: list[list[Tag]] = [[] for _ in tagger_tags]
        if self.glove is not None:
            private = self.head.custom_tags if self.head is not None else frozenset()
            parents = [[t for t in tags if t.name not in private] for tags in tagger_tags] if private else tagger_tags
            glove_tags = [[t for t in expanded if t.score >= thresholds["glove"]]
                          for expanded in self.glove.expand_batch(parents)]
        return [merge_tags([*a, *b, *c]) for a, b, c in zip(tagger_tags, object_tags, glove_tags, strict=True)]

    def _head_tags(self, features: np.ndarray, hierarchy_scores: np.ndarray,
                   found: Sequence[Sequence[Detection] | None], override: float | None) -> list[list[Tag]]:
        """The head's tags per photo; photos the detector did not look at get no detector evidence."""
        thresholds = self.settings.thresholds
        looked = [i for i, boxes in enumerate(found) if boxes is not None]
        out: list[list[Tag]] = [[] for _ in found]
        for rows, detections in ((looked, [found[i] for i in looked]),
                                 ([i for i, boxes in enumerate(found) if boxes is None], None)):
            if not rows:
                continue
            tags = self.head.tags_for(features[rows], hierarchy_scores[rows], self.hierarchy.tag_names, detections,
                                      min_score=override, detector_threshold=thresholds["detector"])
            for i, photo_tags in zip(rows, tags, strict=True):
                out[i] = photo_tags
        return out
