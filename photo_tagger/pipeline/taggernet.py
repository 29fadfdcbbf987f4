"""The trained TaggerNet head: backbone features -> vocabulary tags, fused with the hierarchy and the detector.

The head is an MLP trained on frozen backbone features (:mod:`photo_tagger.training`), shipped in
``resources/taggernet/`` as ``head.safetensors`` (weights, read without pickle) and ``taggernet.json`` (its model
card: vocabulary, per-tag thresholds, calibration, metrics, how to reproduce it). Inference is NumPy only.

For a vocabulary tag, three sources may have evidence: the head itself, the ImageNet hierarchy (``dog`` is the
summed probability of the dog classes) and the COCO detector (its best ``dog`` box). Their raw scores are not
comparable, so each (source, tag) pair has a Platt curve fitted on validation photos that turns its score into a
probability, and the probabilities are then merged. The merge rule is in the card:

- ``pool``: add the calibrated log-odds of each source, less the tag's prior log-odds for every source beyond the
  first (what naive Bayes does with independent evidence), then one more Platt curve per tag re-calibrates the sum,
  because the sources are not independent. A source that is switched off (no detector file) adds nothing.
- ``max``: the best calibrated probability.

A tag is suggested when the merged probability reaches the tag's threshold (chosen on validation photos to maximise
F1), or when the detector found it at the detector's own threshold (the paper's union of TaggerNet and detector
tags). Example: a photo whose head says ``dog`` with logit 2.1, hierarchy 0.55, detector box 0.91 -> calibrated
0.86, 0.80, 0.93 -> pooled 0.97 >= threshold 0.41 -> ``Tag("dog", 0.97, "tagger")`` and, because the box passes
the detector threshold 0.4, ``Tag("dog", 0.93, "detector")``; the engine's merge keeps 0.97 and lists both.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photo_tagger.pipeline.types import Detection, Tag
from photo_tagger.resources import resources_dir

HEAD_FILE = "head.safetensors"
CARD_FILE = "taggernet.json"
SOURCES = ("head", "hierarchy", "detector")
EPS = 1e-4


def default_head_dir() -> Path:
    return resources_dir() / "taggernet"


def logit(scores: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(scores, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def mlp_logits(weights: Mapping[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """``layers.0`` ... ``layers.<n>`` linear layers with ReLU between them, on ``[N, D]`` features.

    A personal head (:mod:`photo_tagger.training.personal`) adds ``adapter.weight`` / ``adapter.bias``: one linear map
    straight from the features to every output, added to the MLP's logits. It carries what the user's decisions taught
    (corrections of shipped tags, and tags of their own) while the shipped MLP stays as it was.
    """
    x = np.asarray(features, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    inputs = x
    count = sum(1 for name in weights if name.startswith("layers.")) // 2
    for i in range(count):
        x = x @ weights[f"layers.{i}.weight"].T + weights[f"layers.{i}.bias"]
        if i < count - 1:
            np.maximum(x, 0, out=x)
    if "adapter.weight" in weights:
        x = x + (inputs @ weights["adapter.weight"].T + weights["adapter.bias"])
    return x


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _list(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in values]


@dataclass(frozen=True)
class Platt:
    """Per tag ``p = sigmoid(a * z + b)``; ``a`` is NaN for tags the source has no evidence for.

    ``silent`` (optional) is the log-odds to use where the source said nothing at all (no box of that class): a
    detector that finds no dog is weak evidence against a dog, which no point of the curve through its scores
    describes (a missing box is not a box with score 0).
    """

    a: np.ndarray
    b: np.ndarray
    silent: np.ndarray | None = None

    @property
    def covered(self) -> np.ndarray:
        return ~np.isnan(self.a)

    def log_odds(self, z: np.ndarray, silent: np.ndarray | None = None) -> np.ndarray:
        """Calibrated log-odds; NaN where the source does not cover the tag. ``silent`` marks rows x tags where the
        source gave no score."""
        out = np.asarray(z, dtype=np.float64) * self.a + self.b
        if silent is not None and self.silent is not None:
            out = np.where(silent, self.silent, out)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[float | None]]) -> Platt:
        return cls(_array(data["a"]), _array(data["b"]), _array(data["silent"]) if data.get("silent") else None)

    def to_json(self) -> dict[str, list[float | None]]:
        out = {"a": _list(self.a), "b": _list(self.b)}
        if self.silent is not None:
            out["silent"] = _list(self.silent)
        return out


def source_logits(source: str, raw: np.ndarray) -> np.ndarray:
    """What each source's Platt curve takes: the head's logits as they are, other scores through ``logit``."""
    return np.asarray(raw, dtype=np.float64) if source == "head" else logit(raw)


def silent_rows(source: str, raw: np.ndarray) -> np.ndarray | None:
    """Where a source gave no score: the detector found no box of a class (its evidence is exactly 0)."""
    return np.asarray(raw) <= 0 if source == "detector" else None


def calibrated_log_odds(calibration: Mapping[str, Platt], raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {s: calibration[s].log_odds(source_logits(s, r), silent_rows(s, r)) for s, r in raw.items()}


def fuse(log_odds: Mapping[str, np.ndarray], rule: str, prior: np.ndarray, final: Platt | None) -> np.ndarray:
    """Merged probability ``[N, V]`` from each source's calibrated log-odds (NaN = no evidence from that source)."""
    stacked = np.stack(list(log_odds.values()))
    if rule == "max":
        return sigmoid(np.nanmax(np.where(np.isnan(stacked), -np.inf, stacked), axis=0))
    if rule != "pool":
        raise ValueError(f"unknown fusion rule {rule!r}")
    present = ~np.isnan(stacked)
    evidence = np.where(present, stacked - prior, 0.0).sum(axis=0)
    pooled = evidence + prior
    return sigmoid(final.log_odds(pooled)) if final is not None else sigmoid(pooled)


def hierarchy_evidence(columns: Sequence[Sequence[int]], scores: np.ndarray) -> np.ndarray:
    """``[N, V]``: per vocabulary tag, the best hierarchy score among the hierarchy tags mapped onto it (0 if none)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    out = np.zeros((scores.shape[0], len(columns)))
    for j, cols in enumerate(columns):
        if cols:
            out[:, j] = scores[:, list(cols)].max(axis=1)
    return out


def detector_evidence(labels: Mapping[str, Sequence[int]], size: int,
                      found: Sequence[Mapping[str, float] | Sequence[Detection]]) -> np.ndarray:
    """``[N, V]``: per vocabulary tag, the best score among the detections whose class maps onto it (0 if none)."""
    out = np.zeros((len(found), size))
    for i, image in enumerate(found):
        pairs = image.items() if isinstance(image, Mapping) else ((d.label, d.score) for d in image)
        for label, score in pairs:
            for j in labels.get(label, ()):
                out[i, j] = max(out[i, j], float(score))
    return out


class TaggerNetHead:
    """A trained head with its vocabulary, calibration and thresholds (see the module docstring)."""

    def __init__(self, weights: Mapping[str, np.ndarray], card: Mapping, folder: Path | None = None) -> None:
        self.weights = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.card = dict(card)
        self.folder = folder
        self.vocabulary: list[str] = list(card["vocabulary"])
        self.index = {tag: j for j, tag in enumerate(self.vocabulary)}
        self.thresholds = np.asarray(card["thresholds"], dtype=np.float64)
        self.calibration = {s: Platt.from_json(c) for s, c in card["calibration"].items()}
        fusion = card["fusion"]
        self.rule: str = fusion["rule"]
        self.prior = logit(np.asarray(fusion["prior"], dtype=np.float64))
        self.final = Platt.from_json(fusion["final"]) if fusion.get("final") else None
        self.source_maps: dict[str, dict[str, list[str]]] = card.get("sources", {})
        detector_map = self.source_maps.get("detector", {})
        self._detector_columns: dict[str, list[int]] = {}
        for tag, labels in detector_map.items():
            for label in labels:
                self._detector_columns.setdefault(label, []).append(self.index[tag])
        self._hierarchy_columns: tuple[tuple[str, ...], list[list[int]]] | None = None
        self._lock = threading.Lock()
        layers = sum(1 for name in self.weights if name.startswith("layers.")) // 2
        out_dim = self.weights[f"layers.{layers - 1}.bias"].shape[0]
        if out_dim != len(self.vocabulary) or len(self.thresholds) != len(self.vocabulary):
            raise ValueError(f"head has {out_dim} outputs for {len(self.vocabulary)} tags")

    @classmethod
    def load(cls, path: Path | str | None = None) -> TaggerNetHead:
        """Load ``head.safetensors`` and ``taggernet.json`` from ``path`` (default ``resources/taggernet``)."""
        from safetensors.numpy import load_file

        folder = Path(path) if path is not None else default_head_dir()
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
        return cls(load_file(str(folder / HEAD_FILE)), card, folder)

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def words(self) -> frozenset[str]:
        """Every word that names one of the head's tags (synonyms included): GloVe must not add these."""
        return frozenset(self.card.get("words", ())) | frozenset(self.vocabulary)

    @property
    def vocabulary_version(self) -> str:
        """``vocab-`` + a hash of the tag list: the vocabulary's own version, beside the head's."""
        import hashlib

        digest = hashlib.sha1(json.dumps(self.vocabulary).encode()).hexdigest()[:10]
        return f"vocab-{len(self.vocabulary)}-{digest}"

    @property
    def custom_tags(self) -> frozenset[str]:
        """Tags the user taught a personal head (a pet's name): words with no meaning GloVe could know."""
        reports = self.card.get("personal", {}).get("tags", ())
        return frozenset(r["tag"] for r in reports if r.get("kind") == "custom" and r.get("used"))

    @property
    def backbone(self) -> str:
        return str(self.card["backbone"]["name"])

    # -- evidence ----------------------------------------------------------------------------------------------------

    def logits(self, features: np.ndarray) -> np.ndarray:
        return mlp_logits(self.weights, features)

    def hierarchy_columns(self, names: Sequence[str]) -> list[list[int]]:
        """For each vocabulary tag, the columns of ``names`` (the hierarchy's tag names) mapped onto it."""
        with self._lock:
            if self._hierarchy_columns is None or self._hierarchy_columns[0] != tuple(names):
                where = {name: i for i, name in enumerate(names)}
                mapping = self.source_maps.get("hierarchy", {})
                columns = [[where[n] for n in mapping.get(tag, ()) if n in where] for tag in self.vocabulary]
                self._hierarchy_columns = (tuple(names), columns)
            return self._hierarchy_columns[1]

    @property
    def detector_columns(self) -> dict[str, list[int]]:
        """COCO label -> the vocabulary columns it names."""
        return self._detector_columns

    def raw_evidence(self, features: np.ndarray, hierarchy_scores: np.ndarray | None = None,
                     hierarchy_names: Sequence[str] | None = None,
                     detections: Sequence[Mapping[str, float] | Sequence[Detection]] | None = None,
                     ) -> dict[str, np.ndarray]:
        """Each available source's raw score ``[N, V]``: head logits, hierarchy and detector scores (0 = nothing)."""
        raw = {"head": self.logits(features)}
        if hierarchy_scores is not None and "hierarchy" in self.calibration:
            raw["hierarchy"] = hierarchy_evidence(self.hierarchy_columns(hierarchy_names), hierarchy_scores)
        if detections is not None and "detector" in self.calibration:
            raw["detector"] = detector_evidence(self._detector_columns, len(self.vocabulary), detections)
        return raw

    def log_odds(self, raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each source's calibrated log-odds (NaN where it has nothing to say about a tag)."""
        return calibrated_log_odds(self.calibration, raw)

    def merged(self, log_odds: Mapping[str, np.ndarray]) -> np.ndarray:
        return fuse(log_odds, self.rule, self.prior, self.final)

    # -- tags --------------------------------------------------------------------------------------------------------

    def decide(self, raw: Mapping[str, np.ndarray], min_score: float | None = None,
               detector_threshold: float | None = None) -> Decision:
        """Scores and suggestions for raw evidence (:meth:`raw_evidence`); see :class:`Decision`."""
        log_odds = self.log_odds(raw)
        merged = self.merged(log_odds)
        limit = self.thresholds if min_score is None else np.full(len(self.vocabulary), float(min_score))
        by_merge = merged >= limit[None, :]
        detector = np.zeros_like(merged)
        by_detector = np.zeros_like(by_merge)
        if "detector" in log_odds:
            detector = np.nan_to_num(sigmoid(log_odds["detector"]), nan=0.0)
            if detector_threshold is not None:
                by_detector = raw["detector"] >= detector_threshold
                if min_score is not None:  # an explicit threshold holds for every score shown
                    by_detector &= detector >= min_score
        scores = np.maximum(merged, np.where(by_detector, detector, 0.0))
        return Decision(scores, merged, detector, by_merge, by_detector)

    def tags_for(self, features: np.ndarray, hierarchy_scores: np.ndarray | None = None,
                 hierarchy_names: Sequence[str] | None = None,
                 detections: Sequence[Mapping[str, float] | Sequence[Detection]] | None = None,
                 min_score: float | None = None, detector_threshold: float | None = None) -> list[list[Tag]]:
        """Each photo's vocabulary tags, best first: see :class:`Decision` for which and with what score.

        A tag suggested by the merge comes as ``Tag(name, merged, "tagger")``; one the detector found comes as
        ``Tag(name, detector's calibrated probability, "detector")``; the engine's merge keeps the better score and
        lists both sources.
        """
        raw = self.raw_evidence(features, hierarchy_scores, hierarchy_names, detections)
        decision = self.decide(raw, min_score, detector_threshold)
        # Every (photo, tag) hit at once, read out as Python lists: indexing NumPy element by element per photo would
        # cost more than the whole decision (a re-tag does this for every photo of the library).
        rows, cols = np.nonzero(decision.suggested)
        columns = cols.tolist()
        scores = decision.scores[rows, cols].tolist()
        merged = decision.merged[rows, cols].tolist()
        detector = decision.detector[rows, cols].tolist()
        by_merge = decision.by_merge[rows, cols].tolist()
        by_detector = decision.by_detector[rows, cols].tolist()
        starts = np.searchsorted(rows, np.arange(decision.scores.shape[0] + 1)).tolist()
        out: list[list[Tag]] = []
        for i in range(decision.scores.shape[0]):
            hits = sorted(range(starts[i], starts[i + 1]), key=lambda k: (-scores[k], self.vocabulary[columns[k]]))
            tags = []
            for k in hits:
                name = self.vocabulary[columns[k]]
                if by_merge[k]:
                    tags.append(Tag(name, merged[k], "tagger"))
                if by_detector[k]:
                    tags.append(Tag(name, detector[k], "detector"))
            out.append(tags)
        return out


@dataclass(frozen=True)
class Decision:
    """What the head decides for ``[N, V]`` photos x vocabulary tags.

    A tag is suggested when its merged probability reaches the tag's threshold (``by_merge``) or when the detector
    found the object at its own threshold (``by_detector``): the paper's union of TaggerNet and detector tags. A
    box the captions would not mention (a parked car behind a dog) still gives a ``car`` tag, scored by the
    detector's calibrated probability. ``scores`` rank the tags: the merged probability, or the detector's when it
    found the object and is surer.
    """

    scores: np.ndarray
    merged: np.ndarray
    detector: np.ndarray
    by_merge: np.ndarray
    by_detector: np.ndarray

    @property
    def suggested(self) -> np.ndarray:
        return self.by_merge | self.by_detector
