"""Multi-label metrics: per-tag average precision and mAP, the paper's top-k accuracy, P/R/F1 at k and at thresholds.

All functions take ``scores`` and ``targets`` as ``[N images, V tags]`` arrays (targets 0/1); higher scores rank
first. Worked example for one tag, scores ``[0.9, 0.8, 0.3, 0.1]`` and targets ``[1, 0, 1, 0]``: the positives are
ranked 1st and 3rd, precision there is 1/1 and 2/3, so AP = (1 + 2/3) / 2 = 0.833.

``known`` (optional, ``[N, V]`` booleans) marks the (image, tag) pairs whose label is known; the others are left out
of that tag's ranking. Captions give such pairs: a concept one caption of five names is probably in the photo but
not salient, neither a clear positive nor a clear negative (:mod:`~photo_tagger.training.loaders`). In the example,
if the 0.8 photo's label were unknown, the positives would rank 1st and 2nd and AP = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_POSITIVES = 5


def average_precision(scores: np.ndarray, targets: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
    """Per column, AP = sum over distinct thresholds of (recall gained) x (precision there); NaN with no positive.

    Tied scores form one threshold (as scikit-learn does), so a constant score gets AP = the positive rate instead
    of a value that depends on the order of the rows. Rows where ``known`` is False do not count for that column.
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    out = np.full(scores.shape[1], np.nan)
    for j in range(scores.shape[1]):
        column, labels = scores[:, j], targets[:, j]
        if known is not None:
            column, labels = column[known[:, j]], labels[known[:, j]]
        positives = labels.sum()
        if positives == 0:
            continue
        order = np.argsort(-column, kind="stable")
        ranked, hits = column[order], labels[order]
        last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
        true_pos = np.cumsum(hits)[last_of_tie]
        seen = np.flatnonzero(last_of_tie) + 1.0
        recall_gain = np.diff(np.r_[0.0, true_pos]) / positives
        out[j] = float(np.sum(recall_gain * true_pos / seen))
    return out


def evaluated_tags(targets: np.ndarray, min_positives: int = MIN_POSITIVES) -> np.ndarray:
    """Boolean mask of the tags with enough positives among these images to measure."""
    return np.asarray(targets).sum(axis=0) >= min_positives


def mean_average_precision(scores: np.ndarray, targets: np.ndarray, min_positives: int = MIN_POSITIVES,
                           mask: np.ndarray | None = None, known: np.ndarray | None = None) -> float:
    """Mean of the per-tag APs over tags with at least ``min_positives`` positives (and in ``mask`` if given);
    ``known`` as in :func:`average_precision` (a positive is always known, so it never changes which tags count)."""
    keep = evaluated_tags(targets, min_positives)
    if mask is not None:
        keep &= mask
    if not keep.any():
        return float("nan")
    return float(np.mean(average_precision(scores[:, keep], targets[:, keep],
                                           None if known is None else np.asarray(known, bool)[:, keep])))


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, scores.shape[1])
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def top_k_accuracy(scores: np.ndarray, targets: np.ndarray, k: int) -> float:
    """The paper's top-k accuracy: the share of images (with any true tag) where a true tag is among the top k."""
    has_tags = targets.sum(axis=1) > 0
    if not has_tags.any():
        return float("nan")
    top = _top(scores[has_tags], k)
    hits = np.take_along_axis(targets[has_tags], top, axis=1).sum(axis=1)
    return float(np.mean(hits > 0))


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def prf_at_k(scores: np.ndarray, targets: np.ndarray, k: int) -> PRF:
    """Precision and recall of each image's top k tags, averaged over images with any true tag; F1 of those means."""
    has_tags = targets.sum(axis=1) > 0
    top = _top(scores[has_tags], k)
    hits = np.take_along_axis(targets[has_tags], top, axis=1).sum(axis=1)
    precision = float(np.mean(hits / top.shape[1]))
    recall = float(np.mean(hits / targets[has_tags].sum(axis=1)))
    return PRF(precision, recall, _f1(precision, recall))


def prf_of(suggested: np.ndarray, targets: np.ndarray) -> PRF:
    """Micro-averaged precision / recall / F1 of a boolean ``[N, V]`` suggestion matrix."""
    true_pos = float(np.sum(suggested & (targets > 0)))
    precision = true_pos / max(1.0, float(suggested.sum()))
    recall = true_pos / max(1.0, float(targets.sum()))
    return PRF(precision, recall, _f1(precision, recall))


def prf_at_thresholds(scores: np.ndarray, targets: np.ndarray, thresholds: np.ndarray) -> PRF:
    """Micro-averaged precision / recall / F1 of the suggestions ``scores >= thresholds`` (one threshold per tag)."""
    return prf_of(scores >= thresholds[None, :], targets)


def per_tag_prf(suggested: np.ndarray, targets: np.ndarray) -> list[PRF]:
    """Precision / recall / F1 of each tag's column of a boolean suggestion matrix."""
    return [prf_of(suggested[:, [j]], targets[:, [j]]) for j in range(suggested.shape[1])]


def best_f1_thresholds(scores: np.ndarray, targets: np.ndarray, fallback: float = 0.5,
                       low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """Per tag, the score threshold in [low, high] that maximises F1 on these images (validation data).

    A tag with no positive here gets ``fallback``. The threshold sits halfway between the last score kept and the
    next one below, so a photo scoring like the validation photo at the edge is treated alike.
    """
    out = np.full(scores.shape[1], fallback, dtype=np.float64)
    for j in range(scores.shape[1]):
        positives = targets[:, j].sum()
        if positives == 0:
            continue
        order = np.argsort(-scores[:, j], kind="stable")
        ranked, hits = scores[order, j], targets[order, j]
        true_pos = np.cumsum(hits)
        f1 = 2 * true_pos / (np.arange(1, len(ranked) + 1) + positives)
        allowed = (ranked >= low) & (ranked <= high)
        last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
        candidates = np.flatnonzero(allowed & last_of_tie)
        if candidates.size == 0:
            continue
        best = candidates[np.argmax(f1[candidates])]
        below = ranked[best + 1] if best + 1 < len(ranked) else ranked[best]
        out[j] = float(np.clip((ranked[best] + max(below, low)) / 2, low, high))
    return out
