"""The interim TaggerNet stage: ImageNet-1k class probabilities -> friendly tags via the WordNet hierarchy.

Each of the 1000 classes carries a few tags (``resources/imagenet_tags.json``, built by
``tools/build_imagenet_tags.py``): its own name and the everyday words above it in WordNet. A tag's score for
a photo is the *summed* probability of every class that carries it, so evidence spread over similar classes
adds up. Example: a photo the backbone finds 0.3 golden retriever and 0.3 Labrador retriever::

    hierarchy = ImageNetHierarchy.load()
    hierarchy.tags_for(probs, min_score=0.15)[0]
    # [Tag("animal", 0.6, "tagger"), Tag("dog", 0.6, "tagger"), Tag("pet", 0.6, "tagger"),
    #  Tag("retriever", 0.6, "tagger"), Tag("golden retriever", 0.3, "tagger"),
    #  Tag("labrador retriever", 0.3, "tagger")]

Neither golden retriever nor Labrador would pass a 0.5 threshold alone; "dog" does. The class -> tag table is
a sparse 0/1 matrix kept as (class, tag) pairs sorted by tag, so scoring a batch is one gather and one
segmented sum (``np.add.reduceat``) over the ~3,000 pairs, with no BLAS call (whose thread pool wakes slowly
while the CNN keeps the cores busy): a batch of 32 takes about 0.3 ms, 0.5 ms with the Tag objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from photo_tagger.pipeline.types import Tag
from photo_tagger.resources import resources_dir

SOURCE = "tagger"
TAGS_FILE = "imagenet_tags.json"
CLASSES_FILE = "imagenet_classes.json"


class ImageNetHierarchy:
    """ImageNet-1k probabilities -> tags, with the table's ``version`` for the tags it produces.

    ``class_tags[i]`` are the tags of class ``i``; ``class_names[i]`` its display name (the first tag when no
    names are given).
    """

    def __init__(
        self, class_tags: Sequence[Sequence[str]], version: str, class_names: Sequence[str] | None = None
    ) -> None:
        if not class_tags or any(not tags for tags in class_tags):
            raise ValueError("every class needs at least one tag")
        self.version = version
        self.class_names = list(class_names) if class_names is not None else [t[0] for t in class_tags]
        if len(self.class_names) != len(class_tags):
            raise ValueError(f"{len(self.class_names)} class names for {len(class_tags)} classes")
        self.class_tags = [list(dict.fromkeys(tags)) for tags in class_tags]
        index: dict[str, int] = {}
        pairs = [(index.setdefault(t, len(index)), c) for c, tags in enumerate(self.class_tags) for t in tags]
        self.tag_names = list(index)
        pairs.sort()
        tag_of_pair = np.array([t for t, _ in pairs], dtype=np.intp)
        self._pair_class = np.array([c for _, c in pairs], dtype=np.intp)
        # Where each tag's run of pairs starts; every tag has at least one class, so no run is empty (which
        # reduceat would get wrong).
        self._tag_start = np.flatnonzero(np.r_[True, tag_of_pair[1:] != tag_of_pair[:-1]])

    @classmethod
    def load(cls, path: Path | None = None) -> ImageNetHierarchy:
        """Read the tag table (default ``resources/imagenet_tags.json``) and the class names beside it."""
        path = Path(path) if path is not None else resources_dir() / TAGS_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        names_path = path.with_name(CLASSES_FILE)
        names = None
        if names_path.exists():
            classes = json.loads(names_path.read_text(encoding="utf-8"))
            names = [c["name"] for c in sorted(classes, key=lambda c: c["index"])]
        return cls(data["classes"], data["version"], names)

    @property
    def num_classes(self) -> int:
        return len(self.class_tags)

    def scores(self, probs: np.ndarray) -> np.ndarray:
        """Per photo and tag (``tag_names`` order), the summed probability of the classes carrying the tag.

        ``probs`` is ``[N, num_classes]`` (or one photo's ``[num_classes]``) softmax output; the result is
        ``[N, len(tag_names)]`` float32, clipped to [0, 1].
        """
        p = self._as_batch(probs)
        summed = np.add.reduceat(p[:, self._pair_class], self._tag_start, axis=1)
        return np.clip(summed, 0.0, 1.0, out=summed)

    def tags_for(self, probs: np.ndarray, min_score: float) -> list[list[Tag]]:
        """Each photo's tags scoring ``min_score`` or more, best first (ties by name)."""
        return self.tags_from_scores(self.scores(probs), min_score)

    def tags_from_scores(self, scores: np.ndarray, min_score: float) -> list[list[Tag]]:
        """:meth:`tags_for` on scores already computed by :meth:`scores` (the engine also hands them to the head)."""
        out: list[list[Tag]] = []
        for row in scores:
            hits = np.flatnonzero(row >= min_score)
            values = row[hits].astype(np.float64).tolist()  # Python floats at once, not one NumPy scalar per tag
            ranked = sorted(zip(values, (self.tag_names[t] for t in hits.tolist()), strict=True),
                            key=lambda x: (-x[0], x[1]))
            out.append([Tag(name=name, score=score, source=SOURCE) for score, name in ranked])
        return out

    def top_classes(self, probs: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
        """Each photo's ``k`` most probable classes as (class name, probability), best first."""
        p = self._as_batch(probs)
        k = max(0, min(k, p.shape[1]))
        if k == 0:
            return [[] for _ in range(p.shape[0])]
        best = np.argpartition(-p, k - 1, axis=1)[:, :k]
        out = []
        for row, idx in zip(p, best, strict=True):
            ordered = sorted(idx.tolist(), key=lambda c: (-row[c], c))
            out.append([(self.class_names[c], float(row[c])) for c in ordered])
        return out

    def _as_batch(self, probs: np.ndarray) -> np.ndarray:
        p = np.asarray(probs, dtype=np.float32)
        if p.ndim == 1:
            p = p[None, :]
        if p.ndim != 2 or p.shape[1] != self.num_classes:
            raise ValueError(f"expected probabilities of shape [N, {self.num_classes}], got {p.shape}")
        return p
