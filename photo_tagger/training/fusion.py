"""Fitting the head's calibration and merge on validation photos (applied by :mod:`photo_tagger.pipeline.taggernet`).

Per source and tag, a Platt curve (:mod:`~photo_tagger.training.calibration`); for the ``pool`` rule, the tag's prior
and one more Platt curve over the pooled log-odds. Everything here is fitted on the validation split only; the test
split is never seen until the report. The rule itself is chosen by 2-fold cross-fitting inside the validation split
(fit on one half, measure mAP on the other, and the other way round), so choosing it does not peek at the test photos
either.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from photo_tagger.pipeline.taggernet import Platt, calibrated_log_odds, fuse, logit, silent_rows, source_logits
from photo_tagger.training.calibration import fit_platt, fit_platt_pooled, silent_log_odds
from photo_tagger.training.metrics import mean_average_precision

RULES = ("pool", "max")
# How hard a tag's hierarchy or detector curve is pulled towards the source's shared curve: about ten photos' worth.
# Cross-fitted validation mAP hardly moves with it (0.495 at 0, 0.492 at 10 on Flickr8k) but without it a tag with
# three validation positives gets an extreme curve: YOLOX's horse boxes, mostly dogs on Flickr8k's squashed 224 px
# photos, would mean "6% horse" at 0.8; with it, 39%.
SHRINK = 10.0


def prior_rate(targets: np.ndarray) -> np.ndarray:
    """Each tag's smoothed base rate among these photos, ``(positives + 1) / (photos + 2)``."""
    return (targets.sum(axis=0) + 1.0) / (len(targets) + 2.0)


def fit_fusion(raw: Mapping[str, np.ndarray], covered: Mapping[str, np.ndarray], targets: np.ndarray,
               rule: str, shrink: float = SHRINK) -> dict:
    """Calibration (per source) and fusion parameters in the model card's JSON shape.

    The hierarchy's and the detector's per-tag curves are shrunk towards the source's shared curve with ``shrink``
    (:func:`~photo_tagger.training.calibration.fit_platt_pooled`); the head's are not (its logits differ by tag).
    """
    calibration: dict[str, Platt] = {}
    for source, scores in raw.items():
        silent = silent_rows(source, scores)
        heard = None if silent is None else ~silent
        mask = covered[source]
        z = source_logits(source, scores)
        if source == "head":
            a, b = fit_platt(z, targets, weights=heard)
        else:
            a, b = fit_platt_pooled(z, targets, mask, weights=heard, strength=shrink)
        quiet = None if silent is None else np.where(mask, silent_log_odds(silent, targets), np.nan)
        calibration[source] = Platt(np.where(mask, a, np.nan), np.where(mask, b, np.nan), quiet)
    prior = prior_rate(targets)
    final = None
    if rule == "pool":
        log_odds = calibrated_log_odds(calibration, raw)
        present = np.stack([~np.isnan(v) for v in log_odds.values()])
        pooled = np.where(present, np.stack(list(log_odds.values())) - logit(prior), 0).sum(axis=0) + logit(prior)
        final = Platt(*fit_platt(pooled, targets))
    return {
        "calibration": {s: c.to_json() for s, c in calibration.items()},
        "fusion": {"rule": rule, "prior": [round(float(p), 6) for p in prior],
                   "final": final.to_json() if final is not None else None},
    }


def apply_fusion(params: Mapping, raw: Mapping[str, np.ndarray]) -> np.ndarray:
    """The merged probabilities that :class:`TaggerNetHead` would give for these raw source scores."""
    fusion = params["fusion"]
    calibration = {s: Platt.from_json(params["calibration"][s]) for s in raw}
    log_odds = calibrated_log_odds(calibration, raw)
    final = Platt.from_json(fusion["final"]) if fusion.get("final") else None
    return fuse(log_odds, fusion["rule"], logit(np.asarray(fusion["prior"])), final)


def cross_fitted_map(raw: Mapping[str, np.ndarray], covered: Mapping[str, np.ndarray], targets: np.ndarray,
                     rule: str, seed: int = 0, shrink: float = SHRINK) -> float:
    """Mean over two folds of the mAP on one half of the photos when fitted on the other half."""
    order = np.random.default_rng(seed).permutation(len(targets))
    halves = (order[: len(order) // 2], order[len(order) // 2:])
    scores = []
    for fit_rows, test_rows in (halves, halves[::-1]):
        params = fit_fusion({s: r[fit_rows] for s, r in raw.items()}, covered, targets[fit_rows], rule, shrink)
        merged = apply_fusion(params, {s: r[test_rows] for s, r in raw.items()})
        scores.append(mean_average_precision(merged, targets[test_rows], min_positives=3))
    return float(np.mean(scores))


def choose_rule(raw: Mapping[str, np.ndarray], covered: Mapping[str, np.ndarray], targets: np.ndarray,
                ) -> tuple[str, dict[str, float]]:
    """The rule with the best cross-fitted validation mAP, and every rule's figure."""
    figures = {rule: cross_fitted_map(raw, covered, targets, rule) for rule in RULES}
    return max(figures, key=figures.get), figures
