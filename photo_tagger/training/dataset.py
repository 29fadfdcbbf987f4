"""A labelled image set, whatever layout it came from: image paths, each image's tags, and the vocabulary.

Every loader (:mod:`~photo_tagger.training.loaders`, :mod:`~photo_tagger.training.mirflickr`) returns one of these;
feature extraction, training and evaluation only ever see this shape.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LabelledImages:
    """Images with multi-label targets over ``vocabulary``.

    ``labels[i]`` holds only vocabulary tags. ``open_labels[i]`` holds every tag the source names for image ``i``
    (for captions: all words two captions agree on, rare ones too); evaluation uses it to judge suggestions that
    fall outside the vocabulary, such as GloVe neighbours. ``unknown[i]`` holds the vocabulary tags whose label is
    unknown for image ``i`` (for captions: named by one caption only, so neither a clear positive nor a clear
    negative); training leaves them out of the loss and evaluation out of the tag's AP (:meth:`known`).
    """

    name: str
    root: Path
    paths: tuple[Path, ...]
    labels: tuple[frozenset[str], ...]
    vocabulary: tuple[str, ...]
    open_labels: tuple[frozenset[str], ...] = field(default=())
    unknown: tuple[frozenset[str], ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.labels):
            raise ValueError(f"{len(self.paths)} images but {len(self.labels)} label sets")
        if not self.open_labels:
            object.__setattr__(self, "open_labels", self.labels)
        if not self.unknown:
            object.__setattr__(self, "unknown", tuple(frozenset() for _ in self.labels))

    def __len__(self) -> int:
        return len(self.paths)

    def relative(self, index: int) -> str:
        """The image's path relative to the dataset root, with forward slashes (stable across machines)."""
        return self.paths[index].relative_to(self.root).as_posix()

    def targets(self) -> np.ndarray:
        """``[N, V]`` float32 0/1 matrix in vocabulary order."""
        column = {tag: j for j, tag in enumerate(self.vocabulary)}
        out = np.zeros((len(self), len(self.vocabulary)), dtype=np.float32)
        for i, tags in enumerate(self.labels):
            for tag in tags:
                out[i, column[tag]] = 1.0
        return out

    def known(self) -> np.ndarray:
        """``[N, V]`` booleans in vocabulary order: False where the label is unknown (see ``unknown``)."""
        column = {tag: j for j, tag in enumerate(self.vocabulary)}
        out = np.ones((len(self), len(self.vocabulary)), dtype=bool)
        for i, tags in enumerate(self.unknown):
            for tag in tags:
                if tag in column:
                    out[i, column[tag]] = False
        return out

    def subset(self, indices: Sequence[int]) -> LabelledImages:
        """The same dataset restricted to ``indices`` (the vocabulary is kept, so targets stay aligned)."""
        return LabelledImages(
            self.name, self.root, tuple(self.paths[i] for i in indices), tuple(self.labels[i] for i in indices),
            self.vocabulary, tuple(self.open_labels[i] for i in indices), tuple(self.unknown[i] for i in indices),
        )

    def content_key(self) -> str:
        """A digest of every image's relative path and bytes: the features cache key for this set of images.

        Hashing the bytes (not sizes and times) keeps the cache valid for a copied dataset and invalid for an edited
        photo. Flickr8k's 195 MB hash in about a second.
        """
        digest = hashlib.sha256()
        for index, path in enumerate(self.paths):
            digest.update(self.relative(index).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()


def build(name: str, root: Path, paths: Sequence[Path], tag_sets: Sequence[Iterable[str]],
          min_images: int = 1, always: Iterable[str] = ()) -> LabelledImages:
    """A dataset whose vocabulary is every tag at least ``min_images`` images carry; rarer tags stay open labels.

    Tags in ``always`` (a dataset's official concepts) are in the vocabulary whenever any image carries them.
    """
    tag_sets = [frozenset(tags) for tags in tag_sets]
    counts = Counter(tag for tags in tag_sets for tag in tags)
    always = frozenset(always)
    vocabulary = tuple(sorted(tag for tag, n in counts.items() if n >= min_images or tag in always))
    kept = frozenset(vocabulary)
    return LabelledImages(name, Path(root), tuple(Path(p) for p in paths), tuple(t & kept for t in tag_sets),
                          vocabulary, tuple(tag_sets))
