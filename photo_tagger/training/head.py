"""The TaggerNet head as the paper trains it: an MLP on frozen backbone features, sigmoid outputs, BCE, Adam 1e-3.

Beyond the paper, each an option in :class:`HeadConfig`: dropout on the input and the hidden layer, weight decay,
positive weights for rare tags (``pos_weight_power``: weight ``(negatives / positives) ** power``) or an asymmetric
loss (Ridnik et al. 2021) instead, and training on several views of each photo (see
:mod:`~photo_tagger.training.features`). ``hidden=0`` gives plain logistic regression, the baseline to beat.

Early stopping as the paper: after each epoch the validation top-k accuracy is measured; training stops when it has
not improved for ``patience`` epochs and the best epoch's weights are kept (ties broken by validation mAP).
``monitor="mAP"`` stops on validation mAP instead: on Flickr8k's concepts top-3 accuracy saturates near 0.99 after the
first epoch and moves in steps of one photo, so the epoch it keeps is close to arbitrary (with EfficientNet-Lite2
features it kept epoch 1 or 2 of 5-6, 0.03-0.05 below the best validation mAP). The logistic-regression baseline
uses mAP, so that the baseline is as strong as it can be.

Labels may be partly unknown: ``known_train`` / ``known_val`` (``[N, V]`` booleans) mark the (photo, tag) pairs
with a known label, and the others add nothing to the loss and are left out of the validation mAP. Captions give
such pairs: a concept one caption in five names is neither a clear positive nor a clear negative.

The trained weights leave as plain float32 arrays (:class:`TrainedHead`), the input standardisation folded into the
first layer, so the engine runs the head in NumPy without torch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from photo_tagger.pipeline.taggernet import mlp_logits
from photo_tagger.training.metrics import mean_average_precision, top_k_accuracy

__all__ = ["HeadConfig", "TrainedHead", "mlp_logits", "train_head"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadConfig:
    hidden: int = 1024
    dropout: float = 0.5
    input_dropout: float = 0.4
    weight_decay: float = 1e-4
    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 40
    patience: int = 4
    top_k: int = 3
    monitor: str = "top_k"  # "top_k" (the paper; ties broken by mAP) | "mAP"
    loss: str = "bce"  # "bce" | "asl"
    pos_weight_power: float = 0.0  # 0: plain BCE
    seed: int = 8

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainedHead:
    """Weights as ``{"layers.<i>.weight": [out, in], "layers.<i>.bias": [out]}``; ReLU between layers."""

    weights: dict[str, np.ndarray]
    best_epoch: int
    epochs_run: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def _build(config: HeadConfig, in_dim: int, out_dim: int, mean: np.ndarray, std: np.ndarray):  # noqa: ANN202
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.from_numpy(mean))
            self.register_buffer("inv_std", torch.from_numpy(1.0 / std))
            self.input_dropout = nn.Dropout(config.input_dropout)
            if config.hidden:
                self.layers = nn.ModuleList([nn.Linear(in_dim, config.hidden), nn.Linear(config.hidden, out_dim)])
            else:
                self.layers = nn.ModuleList([nn.Linear(in_dim, out_dim)])
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.input_dropout((x - self.mean) * self.inv_std)
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i < len(self.layers) - 1:
                    x = self.dropout(torch.relu(x))
            return x

    return Head()


def _loss_fn(config: HeadConfig, targets: np.ndarray):  # noqa: ANN202
    import torch
    import torch.nn.functional as F  # noqa: N812

    if config.loss == "asl":
        def asymmetric(logits: torch.Tensor, y: torch.Tensor, known: torch.Tensor | None = None,
                       gamma_neg: float = 4.0, clip: float = 0.05) -> torch.Tensor:
            p = torch.sigmoid(logits)
            p_neg = (p - clip).clamp(min=0)
            loss_pos = y * F.logsigmoid(logits)
            loss_neg = (1 - y) * torch.log((1 - p_neg).clamp(min=1e-8)) * p_neg.pow(gamma_neg)
            loss = loss_pos + loss_neg
            return -(loss if known is None else loss * known).sum(dim=1).mean()

        return asymmetric
    if config.loss != "bce":
        raise ValueError(f"unknown loss {config.loss!r}; choose bce or asl")
    pos_weight = None
    if config.pos_weight_power > 0:
        positives = targets.sum(axis=0) + 1
        ratio = (len(targets) - positives) / positives
        pos_weight = torch.from_numpy(np.clip(ratio, 1, None) ** config.pos_weight_power).float()

    def bce(logits: torch.Tensor, y: torch.Tensor, known: torch.Tensor | None = None) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, y, weight=known, pos_weight=pos_weight,
                                                  reduction="sum") / len(y)

    return bce


def train_head(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
               config: HeadConfig, threads: int | None = None, known_train: np.ndarray | None = None,
               known_val: np.ndarray | None = None) -> TrainedHead:
    """Train on ``x_train`` (rows may repeat a photo under several views), stop early on ``x_val``; ``known_*`` as
    in the module docstring (None: every label known)."""
    import torch

    started = time.perf_counter()
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    mean = x_train.mean(axis=0).astype(np.float32)
    std = (x_train.std(axis=0) + 1e-3).astype(np.float32)
    model = _build(config, x_train.shape[1], y_train.shape[1], mean, std)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = _loss_fn(config, y_train)
    xs, ys = torch.from_numpy(np.ascontiguousarray(x_train, np.float32)), torch.from_numpy(y_train.astype(np.float32))
    ks = None if known_train is None else torch.from_numpy(np.asarray(known_train, np.float32))
    best: tuple[float, float] = (-1.0, -1.0)
    best_state, best_epoch, history = None, 0, []
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        total = 0.0
        for rows in torch.randperm(len(xs), generator=generator).split(config.batch_size):
            optimiser.zero_grad()
            loss = loss_fn(model(xs[rows]), ys[rows], None if ks is None else ks[rows])
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(rows)
        scores = _predict(model, x_val)
        top_k = top_k_accuracy(scores, y_val, config.top_k)
        val_map = mean_average_precision(scores, y_val, known=known_val)
        history.append({"epoch": epoch, "loss": total / len(xs), "val_top_k": top_k, "val_mAP": val_map})
        log.info("epoch %d: loss %.4f, val top-%d %.4f, val mAP %.4f", epoch, total / len(xs), config.top_k, top_k,
                 val_map)
        score = (top_k, val_map) if config.monitor == "top_k" else (val_map, top_k)
        if score > best:
            best, best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    return TrainedHead(_export(model), best_epoch, len(history), time.perf_counter() - started, history)


def _predict(model, features: np.ndarray) -> np.ndarray:  # noqa: ANN001
    import torch

    model.eval()
    with torch.inference_mode():
        return model(torch.from_numpy(np.ascontiguousarray(features, np.float32))).numpy()


def _export(model) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Float32 arrays with ``(x - mean) / std`` folded into the first layer: ``W' = W / std``, ``b' = b - W' mean``."""
    weights = {}
    inv_std, mean = model.inv_std.numpy().astype(np.float64), model.mean.numpy().astype(np.float64)
    for i, layer in enumerate(model.layers):
        w = layer.weight.detach().numpy().astype(np.float64)
        b = layer.bias.detach().numpy().astype(np.float64)
        if i == 0:
            w = w * inv_std[None, :]
            b = b - w @ mean
        weights[f"layers.{i}.weight"] = np.ascontiguousarray(w, dtype=np.float32)
        weights[f"layers.{i}.bias"] = b.astype(np.float32)
    return weights
