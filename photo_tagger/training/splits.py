"""Train / validation / test splits that a photo keeps for life.

A photo's split is decided by a hash of the seed and its path inside the dataset, not by shuffling the list, so the
same photo lands in the same split whatever else is in the dataset: ``--limit 500`` and the full run agree on the
held-out photos of those 500, and photos added later never move an old test photo into training.

Proportions follow the paper and the issue: ``test_fraction`` (20%) is held out for reporting only; the rest is split
80/20 into training and validation (early stopping, calibration, thresholds). So 64 / 16 / 20 of the photos.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from photo_tagger.training.dataset import LabelledImages

DEFAULT_SEED = 8


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def unit_hash(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``key``."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2.0**64


def split_dataset(dataset: LabelledImages, seed: int = DEFAULT_SEED, test_fraction: float = 0.2,
                  val_fraction: float = 0.2) -> Split:
    """Indices of the training, validation and test photos (``val_fraction`` is of the non-test photos)."""
    if not (0 <= test_fraction < 1 and 0 < val_fraction < 1):
        raise ValueError("fractions must be in [0, 1)")
    val_edge = test_fraction + (1 - test_fraction) * val_fraction
    draws = np.array([unit_hash(seed, dataset.relative(i)) for i in range(len(dataset))])
    return Split(
        train=np.flatnonzero(draws >= val_edge),
        val=np.flatnonzero((draws >= test_fraction) & (draws < val_edge)),
        test=np.flatnonzero(draws < test_fraction),
    )
