"""Values that flow between the pipeline's stages.

Every stage returns plain dataclasses so the store, the CLI and the GUI can consume results without knowing which
model produced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tag:
    """One tag proposed by one stage.

    ``score`` is in [0, 1]. ``parent`` is set for GloVe tags: the tag whose neighbour this is.
    """

    name: str
    score: float
    source: str  # "tagger" | "detector" | "glove"
    parent: str | None = None


@dataclass(frozen=True)
class Detection:
    """One detected object; ``box`` is (x0, y0, x1, y1) in the pixels of the oriented, full-size photo."""

    label: str
    score: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class MergedTag:
    """A tag after merging duplicates from several stages: the best score wins, every source is kept."""

    name: str
    score: float
    source: str
    sources: tuple[str, ...]
    parent: str | None = None


@dataclass
class PhotoResult:
    """What the engine found in one photo; ``error`` is set (and the rest empty) when the photo could not be read."""

    path: str
    tags: list[MergedTag] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    # Everything the detector reported (down to its own floor), None with the detector off: stored with the features
    # as the photo's evidence, from which a re-tag recomputes the suggestions without the image.
    found: list[Detection] | None = None
    error: str | None = None
    model_versions: dict[str, str] = field(default_factory=dict)
    features: object | None = None  # backbone features (numpy float32 vector) for the store; not serialised
    width: int | None = None
    height: int | None = None
    transient: bool = False  # the error was not the photo's fault (a model failed): worth retrying
