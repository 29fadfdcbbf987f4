"""``photo-tagger train`` end to end: dataset -> cached features -> head -> calibration -> thresholds -> report -> card.

::

    dataset (loaders) --> features of every view, cached (features) --> train / val / test by path hash (splits)
      train views --> MLP head, early stop on val top-k (head)      centre of train --> logistic regression baseline
      val: head logits + hierarchy + detector evidence --> Platt per source and tag, merge rule, thresholds (fusion)
      written to OUT (card), then loaded back by a real Tagger and measured on test (evaluate) --> card's metrics

Nothing fitted sees the test split; calibration, the merge and the thresholds see only the validation split.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from photo_tagger.config import Settings
from photo_tagger.training.features import VIEWS, extract_features
from photo_tagger.training.head import HeadConfig, mlp_logits, train_head
from photo_tagger.training.loaders import DatasetError, load_dataset
from photo_tagger.training.metrics import best_f1_thresholds, mean_average_precision
from photo_tagger.training.splits import DEFAULT_SEED, split_dataset

log = logging.getLogger(__name__)

# Plain logistic regression on the centre crop, stopped on validation mAP with room to converge: the bar to beat.
BASELINE = HeadConfig(hidden=0, dropout=0.0, input_dropout=0.0, batch_size=32, patience=8, max_epochs=60,
                      monitor="mAP")


@dataclass(frozen=True)
class TrainOptions:
    dataset: str
    out: Path
    limit: int | None = None
    min_images: int | None = None
    tags: str = "concepts"
    unknown_single: bool = True
    views: tuple[str, ...] = VIEWS
    seed: int = DEFAULT_SEED
    test_fraction: float = 0.2
    val_fraction: float = 0.2
    head: HeadConfig = field(default_factory=HeadConfig)
    baseline: bool = True
    progress: bool | None = None
    command: str = ""


def train(options: TrainOptions, settings: Settings) -> dict:
    """Train, calibrate, write and evaluate a head; returns the model card (also written to ``options.out``)."""
    from photo_tagger.pipeline.backbones.runtime import Backbone
    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.training.card import assemble_card, write_head, write_report
    from photo_tagger.training.evaluate import evaluate_head

    started = time.perf_counter()
    dataset = load_dataset(options.dataset, options.limit, options.min_images, options.tags, options.unknown_single)
    split = split_dataset(dataset, options.seed, options.test_fraction, options.val_fraction)
    if min(len(split.train), len(split.val), len(split.test)) == 0 or not dataset.vocabulary:
        raise DatasetError(f"{dataset.name}: {len(dataset)} photos and {len(dataset.vocabulary)} tags are too few "
                           "to split into training, validation and test (use more photos or a lower --min-images)")
    backbone = Backbone.from_settings(settings, threads=settings.thread_count())
    features = extract_features(dataset, backbone, settings.cache_dir, options.views, options.progress)
    extracted = time.perf_counter()
    targets, known = dataset.targets(), dataset.known()
    x_train = np.concatenate([features.views[v][split.train] for v in options.views])
    y_train = np.tile(targets[split.train], (len(options.views), 1))
    k_train = np.tile(known[split.train], (len(options.views), 1))
    x_val, y_val, k_val = features.centre[split.val], targets[split.val], known[split.val]
    trained = train_head(x_train, y_train, x_val, y_val, options.head, threads=settings.thread_count(),
                         known_train=k_train, known_val=k_val)
    baseline = None
    if options.baseline:
        fitted = train_head(features.centre[split.train], targets[split.train], x_val, y_val, BASELINE,
                            threads=settings.thread_count(), known_train=known[split.train], known_val=k_val)
        test_scores, y_test = mlp_logits(fitted.weights, features.centre[split.test]), targets[split.test]
        baseline = {"model": "logistic regression on centre-crop features", "settings": BASELINE.as_dict(),
                    "mAP": mean_average_precision(test_scores, y_test, known=known[split.test]),
                    "mAP_all_pairs": mean_average_precision(test_scores, y_test),
                    "seconds": round(fitted.seconds, 1)}

    engine = Tagger(settings, use_head=False, use_glove=False)
    fitted_fusion, source_maps = _fit_fusion(engine, dataset, split, features, trained.weights, targets, options)
    card = assemble_card(dataset, split, backbone, trained, fitted_fusion, source_maps, options,
                         timings={"features_seconds": round(extracted - started, 1),
                                  "head_seconds": round(trained.seconds, 1)})
    write_head(options.out, trained.weights, card)

    tagger = Tagger(settings, head_path=options.out)
    report = evaluate_head(tagger, dataset, split, features, settings.cache_dir, options.progress)
    card["mAP"] = report["mAP"]
    card["baseline"] = baseline
    card["metrics"] = {k: v for k, v in report.items() if k != "per_tag"}
    card["per_tag"] = report["per_tag"]
    card["training"]["total_seconds"] = round(time.perf_counter() - started, 1)
    write_report(options.out, card)
    return card


def _fit_fusion(engine, dataset, split, features, weights, targets, options) -> tuple[dict, dict]:  # noqa: ANN001
    """Calibration, merge rule and per-tag thresholds, all fitted on the validation split."""
    from photo_tagger.pipeline.taggernet import detector_evidence, hierarchy_evidence
    from photo_tagger.training.detections import detect_dataset
    from photo_tagger.training.fusion import apply_fusion, choose_rule, fit_fusion
    from photo_tagger.training.sources import covered_words, source_map

    vocabulary = list(dataset.vocabulary)
    hierarchy = engine.hierarchy
    maps = {"hierarchy": source_map(hierarchy.tag_names, vocabulary)}
    where = {name: i for i, name in enumerate(hierarchy.tag_names)}
    columns = [[where[n] for n in maps["hierarchy"].get(tag, [])] for tag in vocabulary]
    rows = split.val
    raw = {"head": mlp_logits(weights, features.centre[rows]),
           "hierarchy": hierarchy_evidence(columns, hierarchy.scores(features.probs[rows]))}
    if engine.detector is not None:
        maps["detector"] = source_map(engine.detector.class_names, vocabulary)
        labels: dict[str, list[int]] = {}
        for tag, names in maps["detector"].items():
            for name in names:
                labels.setdefault(name, []).append(vocabulary.index(tag))
        found = detect_dataset(dataset, rows, engine.detector, engine.settings.cache_dir, features.key,
                               workers=engine.settings.thread_count(), progress=options.progress)
        raw["detector"] = detector_evidence(labels, len(vocabulary), found)
    else:
        log.warning("no detector file: the head is calibrated without detector evidence")
    covered = {"head": np.ones(len(vocabulary), bool),
               **{s: np.array([tag in maps[s] for tag in vocabulary]) for s in maps}}
    y_val = targets[rows]
    rule, figures = choose_rule(raw, covered, y_val)
    params = fit_fusion(raw, covered, y_val, rule)
    params["fusion"]["cross_fitted_val_mAP"] = {k: round(v, 4) for k, v in figures.items()}
    params["thresholds"] = [round(float(t), 4) for t in best_f1_thresholds(apply_fusion(params, raw), y_val)]
    params["words"] = covered_words(vocabulary)
    return params, maps
