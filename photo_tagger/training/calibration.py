"""Platt scaling per tag: a source's raw score for a tag -> the probability that the photo really has the tag.

Sources score on different scales: the head's sigmoid (pushed up by positive weights), the hierarchy's summed
ImageNet probabilities (0.2 for "dog" can be a sure dog split over many breeds), the detector's objectness x class
confidence. Merging by "best score wins" is only fair once each score means the same thing, so every (source, tag)
pair gets its own logistic curve ``p = sigmoid(a * z + b)`` on ``z = logit(score)``, fitted on validation photos.

Fitting uses Platt's smoothed targets ((positives + 1) / (positives + 2) for a positive, 1 / (negatives + 2) for a
negative), which keeps a tag with two validation positives from getting a curve that says 0 or 1, and a small ridge
on ``a``. All tags are fitted at once by Newton's method with step halving on the ``[N, V]`` matrix (the loss is
convex, so the halving only guards against overshooting from the start at ``a = 1, b = 0``).
"""

from __future__ import annotations

import numpy as np

from photo_tagger.pipeline.taggernet import sigmoid

RIDGE = 1e-3


def fit_platt(z: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None,
              prior: tuple[float, float] | None = None, strength: float = 0.0,
              iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Per column ``j``, ``(a[j], b[j])`` minimising the smoothed log loss of ``sigmoid(a z + b)``.

    ``z`` is ``[N, V]`` (logits or any real score), ``targets`` ``[N, V]`` 0/1; ``weights`` (0/1, ``[N, V]``) leaves
    rows out of a column's fit. With ``prior`` ``(a0, b0)``, the penalty ``strength / 2 * ((a - a0)^2 + (b - b0)^2)``
    pulls a column with little data towards that curve (see :func:`fit_platt_pooled`).
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    w_row = np.ones_like(z) if weights is None else np.asarray(weights, dtype=np.float64)
    z = z * w_row  # rows left out contribute nothing below (their residual is multiplied by 0 too)
    positives, negatives = (y * w_row).sum(axis=0), ((1 - y) * w_row).sum(axis=0)
    soft = np.where(y > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    a0, b0 = prior if prior is not None else (0.0, 0.0)
    l_a, l_b = (strength, strength) if prior is not None else (RIDGE, 0.0)

    def loss(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        u = a * z + b
        # log(1 + e^u) - soft * u, stably, summed over the rows each column uses
        data = ((np.logaddexp(0, u) - soft * u) * w_row).sum(axis=0)
        return data + l_a * (a - a0) ** 2 / 2 + l_b * (b - b0) ** 2 / 2

    a, b = np.ones(z.shape[1]), np.zeros(z.shape[1])
    current = loss(a, b)
    for _ in range(iterations):
        p = sigmoid(a * z + b)
        w = p * (1 - p) * w_row
        r = (p - soft) * w_row
        g_a, g_b = (r * z).sum(axis=0) + l_a * (a - a0), r.sum(axis=0) + l_b * (b - b0)
        h_aa, h_ab, h_bb = (w * z * z).sum(axis=0) + l_a, (w * z).sum(axis=0), w.sum(axis=0) + l_b + 1e-9
        det = np.maximum(h_aa * h_bb - h_ab**2, 1e-12)
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        # Newton's step, halved per column until the loss goes down (a flat or separable column can overshoot).
        scale = np.ones_like(a)
        for _ in range(30):
            trial = loss(a - scale * step_a, b - scale * step_b)
            better = trial <= current
            if better.all():
                break
            scale = np.where(better, scale, scale / 2)
        a, b, current = a - scale * step_a, b - scale * step_b, np.minimum(trial, current)
        if max(np.abs(scale * step_a).max(initial=0), np.abs(scale * step_b).max(initial=0)) < 1e-8:
            break
    return a, b


def fit_platt_pooled(z: np.ndarray, targets: np.ndarray, columns: np.ndarray, weights: np.ndarray | None = None,
                     strength: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-column curves shrunk towards one curve fitted on all ``columns`` together (empirical Bayes).

    A source's scores mean roughly the same for every tag (a detector box at 0.8 is usually right), so a tag with
    a handful of validation photos borrows the shared curve; a tag with many photos keeps its own. ``strength`` is
    in units of log-loss, about that many photos' worth of evidence; 0 fits each column alone.
    """
    if strength <= 0 or not columns.any():
        return fit_platt(z, targets, weights)
    w = np.ones_like(z) if weights is None else weights
    shared = fit_platt(z[:, columns].reshape(-1, 1), targets[:, columns].reshape(-1, 1),
                       w[:, columns].reshape(-1, 1))
    return fit_platt(z, targets, weights, prior=(float(shared[0][0]), float(shared[1][0])), strength=strength)


def silent_log_odds(silent: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per column, the smoothed log-odds of a positive among the rows where the source said nothing."""
    positives = (targets * silent).sum(axis=0)
    negatives = ((1 - targets) * silent).sum(axis=0)
    return np.log((positives + 1) / (negatives + 1))
