"""The report on held-out photos: the head's ranking metrics, each part of the pipeline, and the ablation.

Everything is measured on the test split; whatever is fitted (calibration, merge, thresholds) is fitted on the
validation split. Rows of the ablation, on the same photos:

1. ``TaggerNet alone``: the trained head, calibrated, with its own per-tag thresholds;
2. ``+ hierarchy``: merged with the ImageNet hierarchy's evidence for vocabulary tags, plus the hierarchy's other
   tags at the engine's tagger threshold (``golden retriever``);
3. ``+ detector``: merged with the detector's evidence too, its vocabulary objects found at the detector threshold
   (the union), and its other classes at that threshold: this row is exactly the shipped engine (the head's stored
   calibration and thresholds);
4. ``+ GloVe``: plus the GloVe neighbours of the tagger tags, as the engine adds them.

Vocabulary tags are judged against the vocabulary labels. Tags outside the vocabulary are judged against the photo's
*open* labels (every word two captions agree on, with its concepts): ``person`` is confirmed when the captions
name people, ``golden retriever`` when they name a dog (captions never confirm a breed). Precision counts every
suggestion; recall is over the vocabulary labels; "extra" counts the suggestions outside the vocabulary.

Every AP leaves out the (photo, tag) pairs the dataset marks unknown (:attr:`LabelledImages.unknown`: for captions,
a tag one caption names); ``mAP_all_pairs`` counts them as negatives, as reports before the unknown pairs did.
Precision and recall of suggestions count an unknown pair as a negative (the stricter reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photo_tagger.pipeline.taggernet import TaggerNetHead
from photo_tagger.pipeline.types import Tag
from photo_tagger.training.dataset import LabelledImages
from photo_tagger.training.fusion import apply_fusion, fit_fusion
from photo_tagger.training.metrics import (
    average_precision,
    best_f1_thresholds,
    evaluated_tags,
    mean_average_precision,
    per_tag_prf,
    prf_at_k,
    prf_of,
    top_k_accuracy,
)
from photo_tagger.training.sources import vocabulary_tags_of

TOP_K = (1, 3, 5)
WEAK_AP = 0.3


@dataclass
class Evidence:
    """Raw per-source scores ``[N, V]`` for one split, and what the engine would add outside the vocabulary."""

    raw: dict[str, np.ndarray]
    targets: np.ndarray
    known: np.ndarray
    open_labels: list[frozenset[str]]
    hierarchy_probs: np.ndarray
    detections: list[dict[str, float]] | None


def gather(head: TaggerNetHead, dataset: LabelledImages, indices: np.ndarray, features: np.ndarray,
           probs: np.ndarray, hierarchy, detections: list[dict[str, float]] | None) -> Evidence:  # noqa: ANN001
    """Raw evidence for ``indices`` (rows of ``features``/``probs`` already restricted to them)."""
    raw = head.raw_evidence(features, hierarchy.scores(probs), hierarchy.tag_names, detections)
    subset = dataset.subset(indices)
    aligned, known = _align(subset, head.vocabulary)
    return Evidence(raw, aligned, known, list(subset.open_labels), probs, detections)


def _align(dataset: LabelledImages, vocabulary: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Targets and known-label mask in the head's vocabulary order: the dataset's labels for its vocabulary's tags,
    its open labels for the head's other tags (a tag the dataset never names is all zeros, so it is not measured)."""
    column = {tag: j for j, tag in enumerate(vocabulary)}
    own = frozenset(dataset.vocabulary)
    out = np.zeros((len(dataset), len(vocabulary)), dtype=np.float32)
    known = np.ones((len(dataset), len(vocabulary)), dtype=bool)
    for i, (labels, open_labels, unknown) in enumerate(zip(dataset.labels, dataset.open_labels, dataset.unknown,
                                                            strict=True)):
        for tag in labels | {t for t in open_labels if t not in own}:
            if tag in column:
                out[i, column[tag]] = 1.0
        for tag in unknown:
            if tag in column:
                known[i, column[tag]] = False
    return out, known


def _confirmed(name: str, open_labels: frozenset[str]) -> bool:
    return bool(vocabulary_tags_of(name, open_labels))


def _extras(head: TaggerNetHead, evidence: Evidence, hierarchy, settings, with_hierarchy: bool,  # noqa: ANN001
            with_detector: bool) -> list[list[Tag]]:
    owned = head.index
    out: list[list[Tag]] = [[] for _ in evidence.open_labels]
    if with_hierarchy:
        for i, tags in enumerate(hierarchy.tags_for(evidence.hierarchy_probs, settings.thresholds["tagger"])):
            out[i] += [t for t in tags if t.name not in owned]
    if with_detector and evidence.detections is not None:
        for i, found in enumerate(evidence.detections):
            out[i] += [Tag(label, score, "detector") for label, score in found.items()
                       if score >= settings.thresholds["detector"] and label not in owned]
    return out


def _suggestion_row(name: str, scores: np.ndarray, suggested: np.ndarray, evidence: Evidence,
                    extras: list[list[Tag]]) -> dict:
    targets = evidence.targets
    vocab = prf_of(suggested, targets)
    vocab_hits = float(np.sum(suggested & (targets > 0)))
    extra_total = sum(len({t.name for t in e}) for e in extras)
    extra_hits = sum(sum(_confirmed(n, labels) for n in {t.name for t in e})
                     for e, labels in zip(extras, evidence.open_labels, strict=True))
    total = float(suggested.sum()) + extra_total
    return {
        "config": name,
        "mAP": mean_average_precision(scores, targets, known=evidence.known),
        "vocabulary": vocab.as_dict(),
        "suggestions_per_photo": total / max(1, len(targets)),
        "extra_per_photo": extra_total / max(1, len(targets)),
        "extra_confirmed": extra_hits / max(1, extra_total),
        "precision": (vocab_hits + extra_hits) / max(1.0, total),
        "recall": vocab.recall,
    }


def _configurations(head: TaggerNetHead, val: Evidence, test: Evidence, settings) -> list:  # noqa: ANN001
    """(name, sources, test scores, test suggestions) for each row before GloVe.

    The last row is the engine itself: the head's stored calibration and thresholds, and the detector's own
    threshold for the union. The rows before it are refitted on the validation photos with fewer sources.
    """
    covered = {s: head.calibration[s].covered for s in head.calibration}
    rows = []
    for name, subset in (("TaggerNet alone", ("head",)), ("+ hierarchy", ("head", "hierarchy")),
                         ("+ detector", ("head", "hierarchy", "detector"))):
        subset = tuple(s for s in subset if s in test.raw)
        if subset == tuple(s for s in ("head", "hierarchy", "detector") if s in test.raw):
            decision = head.decide({s: test.raw[s] for s in subset},
                                   detector_threshold=settings.thresholds["detector"])
            rows.append((name, subset, decision.scores, decision.suggested))
            break
        params = fit_fusion({s: val.raw[s] for s in subset}, covered, val.targets, head.rule)
        thresholds = best_f1_thresholds(apply_fusion(params, {s: val.raw[s] for s in subset}), val.targets)
        scores = apply_fusion(params, {s: test.raw[s] for s in subset})
        rows.append((name, subset, scores, scores >= thresholds[None, :]))
    return rows


def evaluate(head: TaggerNetHead, val: Evidence, test: Evidence, hierarchy, settings, glove=None) -> dict:  # noqa: ANN001
    """The full report (a JSON-ready dict); see the module docstring for what each part means."""
    y, known = test.targets, test.known
    rows, last = [], None
    for name, subset, scores, suggested in _configurations(head, val, test, settings):
        extras = _extras(head, test, hierarchy, settings, "hierarchy" in subset, "detector" in subset)
        rows.append(_suggestion_row(name, scores, suggested, test, extras))
        last = (scores, suggested, extras)
    combined, suggested, extras = last
    if glove is not None:
        with_glove = []
        for i in range(len(y)):
            tagger = [Tag(head.vocabulary[j], float(combined[i, j]), "tagger") for j in np.flatnonzero(suggested[i])]
            tagger += [t for t in extras[i] if t.source == "tagger"]
            neighbours = [t for t in glove.expand(tagger) if t.score >= settings.thresholds["glove"]]
            with_glove.append(extras[i] + neighbours)
        rows.append(_suggestion_row("+ GloVe", combined, suggested, test, with_glove))
    for previous, row in zip(rows, rows[1:], strict=False):
        row["recall_gained"] = row["recall"] - previous["recall"]
        row["precision_cost"] = previous["precision"] - row["precision"]

    head_scores = test.raw["head"]
    measured = evaluated_tags(y)
    ap_head, ap_combined = average_precision(head_scores, y, known), average_precision(combined, y, known)
    prf = per_tag_prf(suggested, y)
    per_tag = [
        {"tag": tag, "positives": int(y[:, j].sum()), "AP": _round(ap_head[j]), "AP_combined": _round(ap_combined[j]),
         "threshold": round(float(head.thresholds[j]), 4), **{k: round(v, 4) for k, v in prf[j].as_dict().items()}}
        for j, tag in enumerate(head.vocabulary)
    ]
    parts = {"TaggerNet": {"mAP": mean_average_precision(head_scores, y, known=known)},
             "combined": {"mAP": mean_average_precision(combined, y, known=known)}}
    for source in ("hierarchy", "detector"):
        if source in test.raw:
            mask = head.calibration[source].covered
            parts[source] = {
                "tags": int((mask & measured).sum()),
                "mAP_all_tags": mean_average_precision(test.raw[source], y, known=known),
                "mAP": mean_average_precision(test.raw[source], y, mask=mask, known=known),
                "TaggerNet_mAP_same_tags": mean_average_precision(head_scores, y, mask=mask, known=known),
                "combined_mAP_same_tags": mean_average_precision(combined, y, mask=mask, known=known),
            }
    return {
        "photos": {"validation": len(val.targets), "test": len(y)},
        "tags_measured": int(measured.sum()),
        "mAP": parts["TaggerNet"]["mAP"],
        "mAP_combined": parts["combined"]["mAP"],
        "unknown_pairs": int((~known).sum()),
        "mAP_all_pairs": mean_average_precision(head_scores, y),
        "mAP_combined_all_pairs": mean_average_precision(combined, y),
        "mAP_per_photo": per_photo_map(head_scores, y),
        "top_k_accuracy": {str(k): top_k_accuracy(head_scores, y, k) for k in TOP_K},
        "at_k": {str(k): prf_at_k(head_scores, y, k).as_dict() for k in TOP_K},
        "suggestions": prf_of(suggested, y).as_dict(),
        "suggestions_macro_f1": float(np.mean([p.f1 for p, m in zip(prf, measured, strict=True) if m])),
        "parts": parts,
        "ablation": rows,
        "per_tag": per_tag,
        "weak_tags": [r["tag"] for r in sorted(per_tag, key=lambda r: r["AP_combined"] or 0)
                      if r["positives"] >= 5 and (r["AP_combined"] or 0) < WEAK_AP],
    }


def per_photo_map(scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean over photos of the AP of ranking that photo's tags (for reference; the issue's mAP is per tag)."""
    rows = targets.sum(axis=1) > 0
    return float(np.nanmean(average_precision(scores[rows].T, targets[rows].T)))


def _round(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def evaluate_head(tagger, dataset: LabelledImages, split, features, cache_dir, progress: bool | None = None,  # noqa: ANN001
                  ) -> dict:
    """Evaluate ``tagger.head`` with the engine's own hierarchy, detector and GloVe objects on ``split.test``.

    ``features`` are the dataset's cached backbone features (:func:`~photo_tagger.training.features.extract_features`);
    detector findings are computed once and cached too (:mod:`~photo_tagger.training.detections`).
    """
    from photo_tagger.training.detections import detect_dataset

    head = tagger.head
    key = features.key
    evidence = {}
    for name, rows in (("val", split.val), ("test", split.test)):
        found = None
        if tagger.detector is not None:
            found = detect_dataset(dataset, rows, tagger.detector, cache_dir, key,
                                   workers=tagger.settings.thread_count(), progress=progress)
        evidence[name] = gather(head, dataset, rows, features.centre[rows], features.probs[rows], tagger.hierarchy,
                                found)
    return evaluate(head, evidence["val"], evidence["test"], tagger.hierarchy, tagger.settings, tagger.glove)
