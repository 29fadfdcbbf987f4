"""The MLP head and its training loop, on real backbone features of a Flickr8k subset."""

from __future__ import annotations

import numpy as np
import pytest

from photo_tagger.training.head import HeadConfig, mlp_logits, train_head
from photo_tagger.training.metrics import mean_average_precision
from photo_tagger.training.splits import split_dataset


@pytest.fixture(scope="module")
def data(subset, subset_features):
    split = split_dataset(subset)
    targets = subset.targets()
    x_train = np.concatenate([subset_features.views[v][split.train] for v in ("centre", "flip")])
    y_train = np.tile(targets[split.train], (2, 1))
    return x_train, y_train, subset_features.centre[split.val], targets[split.val]


@pytest.fixture(scope="module")
def trained(data):
    return train_head(*data, HeadConfig(hidden=64, max_epochs=12, patience=3, batch_size=64), threads=2)


def test_head_learns_ranks_better_than_chance_and_exports_plain_arrays(data, trained):
    x_train, y_train, x_val, y_val = data
    assert set(trained.weights) == {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
    assert trained.weights["layers.0.weight"].shape == (64, 1280)
    assert trained.weights["layers.1.weight"].shape == (y_train.shape[1], 64)
    assert all(w.dtype == np.float32 for w in trained.weights.values())
    scores = mlp_logits(trained.weights, x_val)
    assert mean_average_precision(scores, y_val, min_positives=2) > mean_average_precision(
        np.random.default_rng(0).random(scores.shape), y_val, min_positives=2) + 0.15


def test_numpy_inference_matches_torch_with_standardisation_folded_in(data):
    import torch

    from photo_tagger.training import head as head_module

    x_train, y_train, x_val, _ = data
    config = HeadConfig(hidden=32, max_epochs=1, patience=1)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-3
    model = head_module._build(config, 1280, y_train.shape[1], mean.astype(np.float32), std.astype(np.float32))
    model.eval()
    with torch.inference_mode():
        expected = model(torch.from_numpy(x_val)).numpy()
    assert np.allclose(mlp_logits(head_module._export(model), x_val), expected, atol=1e-3)


def test_early_stopping_keeps_the_best_epoch(trained):
    history = trained.history
    assert 1 <= trained.best_epoch <= trained.epochs_run <= 12
    best = max(history, key=lambda h: (h["val_top_k"], h["val_mAP"]))
    assert best["epoch"] == trained.best_epoch
    assert trained.epochs_run == 12 or trained.epochs_run - trained.best_epoch == 3  # stopped after patience


@pytest.mark.parametrize("options", [dict(hidden=0, dropout=0.0, input_dropout=0.0, monitor="mAP"), dict(monitor="mAP"),
                                     dict(loss="asl"), dict(pos_weight_power=0.5)])
def test_baseline_and_imbalance_options_train(data, options):
    x_train, y_train, x_val, y_val = data
    result = train_head(x_train, y_train, x_val, y_val, HeadConfig(max_epochs=2, patience=2, **options), threads=2)
    assert np.isfinite(mlp_logits(result.weights, x_val)).all()
    assert len(result.weights) == (2 if options.get("hidden") == 0 else 4)


@pytest.mark.parametrize("loss", ["bce", "asl"])
def test_unknown_pairs_add_nothing_to_the_loss(loss):
    import torch

    from photo_tagger.training.head import _loss_fn

    y = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    known = torch.tensor([[1, 1, 0], [1, 0, 1]], dtype=torch.float32)
    loss_fn = _loss_fn(HeadConfig(loss=loss), y)
    logits = torch.tensor([[2.0, -1.0, 0.5], [-0.3, 1.5, -2.0]], requires_grad=True)
    loss_fn(logits, torch.from_numpy(y), known).backward()
    assert (logits.grad[known == 0] == 0).all() and (logits.grad[known == 1] != 0).all()
    changed = logits.detach().clone()
    changed[known == 0] = 9.0  # whatever the head says about an unknown pair
    assert float(loss_fn(changed, torch.from_numpy(y), known)) == pytest.approx(
        float(loss_fn(logits.detach(), torch.from_numpy(y), known)))
    assert float(loss_fn(logits.detach(), torch.from_numpy(y))) > float(loss_fn(logits.detach(), torch.from_numpy(y),
                                                                                known))


def test_unknown_loss_is_refused(data):
    with pytest.raises(ValueError, match="unknown loss"):
        train_head(*data, HeadConfig(loss="focal", max_epochs=1))
