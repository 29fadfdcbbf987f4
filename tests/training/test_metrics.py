"""Metrics, Platt calibration and the merge of sources, on small worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from photo_tagger.pipeline.taggernet import Platt, fuse, logit, sigmoid
from photo_tagger.training.calibration import fit_platt, fit_platt_pooled, silent_log_odds
from photo_tagger.training.fusion import apply_fusion, choose_rule, fit_fusion
from photo_tagger.training.metrics import (
    average_precision,
    best_f1_thresholds,
    mean_average_precision,
    per_tag_prf,
    prf_at_k,
    prf_at_thresholds,
    top_k_accuracy,
)


def test_average_precision_worked_example_and_ties():
    scores = np.array([[0.9], [0.8], [0.3], [0.1]])
    targets = np.array([[1], [0], [1], [0]])
    assert average_precision(scores, targets)[0] == pytest.approx((1 + 2 / 3) / 2)
    flat = np.full((10, 1), 0.5)
    labels = np.array([[1]] * 3 + [[0]] * 7)
    assert average_precision(flat, labels)[0] == pytest.approx(0.3)  # a constant score is worth the base rate
    assert np.isnan(average_precision(scores, np.zeros((4, 1)))[0])


def test_unknown_pairs_leave_the_ranking_of_their_tag_only():
    scores = np.array([[0.9, 0.9], [0.8, 0.8], [0.3, 0.3], [0.1, 0.1]])
    targets = np.array([[1, 1], [0, 0], [1, 1], [0, 0]])
    known = np.array([[True, True], [False, True], [True, True], [True, True]])
    assert average_precision(scores, targets, known) == pytest.approx([1.0, (1 + 2 / 3) / 2])
    assert mean_average_precision(scores, targets, 2, known=known) == pytest.approx((1 + (1 + 2 / 3) / 2) / 2)
    assert mean_average_precision(scores, targets, 2) == pytest.approx((1 + 2 / 3) / 2)  # without known: as before


def test_map_averages_tags_with_enough_positives_only():
    rng = np.random.default_rng(0)
    targets = np.zeros((40, 3))
    targets[:10, 0] = 1
    targets[:3, 1] = 1  # only 3 positives: not measured
    targets[::4, 2] = 1
    perfect = targets + rng.random(targets.shape) * 0.1
    assert mean_average_precision(perfect, targets) == pytest.approx(1.0)
    scores = perfect.copy()
    scores[:, 1] = -scores[:, 1]  # ruin the tag that is not measured: no effect
    assert mean_average_precision(scores, targets) == pytest.approx(1.0)
    scores[:, 2] = -scores[:, 2]
    assert mean_average_precision(scores, targets) < 0.7
    assert mean_average_precision(scores, targets, mask=np.array([True, False, False])) == pytest.approx(1.0)


def test_top_k_accuracy_is_a_hit_when_any_true_tag_is_in_the_top_k():
    scores = np.array([[0.9, 0.5, 0.1], [0.9, 0.5, 0.1], [0.1, 0.2, 0.3]])
    targets = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # the third photo has no tag: not counted
    assert top_k_accuracy(scores, targets, 1) == 0.0
    assert top_k_accuracy(scores, targets, 2) == 0.5
    assert top_k_accuracy(scores, targets, 3) == 1.0
    at2 = prf_at_k(scores, targets, 2)
    assert at2.precision == pytest.approx(0.25) and at2.recall == pytest.approx(0.5)


def test_thresholds_maximise_f1_on_validation_and_are_reported_per_tag():
    scores = np.array([[0.9, 0.2], [0.7, 0.3], [0.6, 0.9], [0.2, 0.1]])
    targets = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    thresholds = best_f1_thresholds(scores, targets)
    assert 0.6 < thresholds[0] <= 0.7 and 0.3 < thresholds[1] <= 0.9
    assert prf_at_thresholds(scores, targets, thresholds).f1 == pytest.approx(1.0)
    per_tag = per_tag_prf(scores >= thresholds, targets)
    assert [p.f1 for p in per_tag] == [1.0, 1.0]
    assert best_f1_thresholds(scores, np.zeros_like(targets), fallback=0.5).tolist() == [0.5, 0.5]


def test_platt_recovers_a_known_curve_and_survives_separable_data():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4000, 2)) * 3
    targets = (rng.random(z.shape) < sigmoid(0.5 * z - 1.0)).astype(float)
    a, b = fit_platt(z, targets)
    assert a == pytest.approx([0.5, 0.5], abs=0.06) and b == pytest.approx([-1.0, -1.0], abs=0.12)
    separable = np.array([[-3.0], [-2.0], [2.0], [3.0]])
    a, b = fit_platt(separable, np.array([[0], [0], [1], [1]]))
    p = sigmoid(a * separable[:, 0] + b)
    assert np.all(np.isfinite(p)) and p[0] < 0.5 < p[-1] and p[-1] < 1.0  # smoothed targets: never 0 or 1


def test_pooled_platt_pulls_a_sparse_tag_towards_the_shared_curve():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(600, 2)) * 2
    targets = (rng.random(z.shape) < sigmoid(2 * z)).astype(float)
    targets[:, 1] = 0
    targets[:3, 1] = 1  # three positives, at random: alone, the curve says the score means nothing
    alone = fit_platt(z, targets)
    pooled = fit_platt_pooled(z, targets, np.array([True, True]), strength=10.0)
    assert pooled[0][1] > alone[0][1] + 0.2
    assert pooled[0][0] == pytest.approx(alone[0][0], abs=0.3)  # plenty of data: barely moved


def test_silent_rows_get_the_base_rate_among_them():
    silent = np.array([[True], [True], [True], [False]])
    targets = np.array([[1], [0], [0], [1]])
    assert silent_log_odds(silent, targets)[0] == pytest.approx(np.log(2 / 3))


def test_pool_adds_evidence_and_a_missing_source_adds_nothing():
    prior = logit(np.array([0.2]))
    head = np.array([[logit(np.array([0.6]))[0]]])
    detector = np.array([[logit(np.array([0.7]))[0]]])
    alone = fuse({"head": head}, "pool", prior, None)
    both = fuse({"head": head, "detector": detector}, "pool", prior, None)
    quiet = fuse({"head": head, "detector": np.full_like(detector, np.nan)}, "pool", prior, None)
    assert alone[0, 0] == pytest.approx(0.6)
    assert both[0, 0] > 0.9  # two sources well above the prior agree
    assert quiet[0, 0] == pytest.approx(0.6)
    assert fuse({"head": head, "detector": detector}, "max", prior, None)[0, 0] == pytest.approx(0.7)


def test_platt_json_round_trip_keeps_uncovered_tags_and_silence():
    platt = Platt(np.array([1.5, np.nan]), np.array([-0.5, np.nan]), np.array([-2.0, np.nan]))
    again = Platt.from_json(platt.to_json())
    assert again.covered.tolist() == [True, False]
    out = again.log_odds(np.array([[1.0, 1.0], [1.0, 1.0]]), silent=np.array([[False, False], [True, True]]))
    assert out[0, 0] == pytest.approx(1.0) and out[1, 0] == pytest.approx(-2.0) and np.isnan(out[:, 1]).all()


def _evidence(n: int, seed: int):
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, 3)) < 0.3).astype(float)
    head = (targets * 2 - 1) * 1.2 + rng.normal(size=targets.shape) * 1.5
    hierarchy = sigmoid((targets * 2 - 1) * 1.0 + rng.normal(size=targets.shape) * 1.5 - 2)
    detector = np.where(rng.random(targets.shape) < 0.6 * targets + 0.05, rng.uniform(0.3, 0.95, targets.shape), 0)
    return {"head": head, "hierarchy": hierarchy, "detector": detector}, targets


def test_calibrated_merge_ranks_better_than_each_source_and_naive_max_does_not():
    raw_val, y_val = _evidence(3000, 3)
    raw_test, y_test = _evidence(3000, 4)
    covered = {s: np.ones(3, bool) for s in raw_val}
    rule, figures = choose_rule(raw_val, covered, y_val)
    assert rule in figures and set(figures) == {"pool", "max"}
    merged = apply_fusion(fit_fusion(raw_val, covered, y_val, "pool"), raw_test)
    best_alone = max(mean_average_precision(raw_test[s], y_test) for s in raw_test)
    assert mean_average_precision(merged, y_test) > best_alone + 0.02
    naive = np.maximum.reduce([sigmoid(raw_test["head"]), raw_test["hierarchy"], raw_test["detector"]])
    assert mean_average_precision(naive, y_test) < mean_average_precision(merged, y_test)
