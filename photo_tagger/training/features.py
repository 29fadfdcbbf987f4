"""Backbone features of a dataset, extracted once per backbone and cached, so training never repeats the CNN.

Each image is decoded the way the engine decodes it (:func:`~photo_tagger.pipeline.images.load_image`) and cut into
*views*, each one backbone input:

- ``centre``: the engine's own crop (:meth:`Backbone.prepare`): what the head sees at tagging time, and the only view
  used for validation and test;
- ``flip``: the centre crop mirrored left-right;
- ``full``: the whole frame resized to the input size (a second, wider crop);
- ``full_flip``: that one mirrored.

The extra views are augmentation for the training split only: four feature vectors per training photo for one
decode each, all computed once. Decoding and cropping run on a thread pool (Pillow releases the GIL) while the
calling thread runs the ONNX backbone on batches.

Cache: ``<cache_dir>/features/<backbone>-<key>-<view>.npy`` (float32 ``[N, D]``) and ``...-centre-probs.npy``
(ImageNet probabilities ``[N, 1000]``, for the hierarchy tags), where ``key`` digests the dataset's content
(:meth:`LabelledImages.content_key`), the backbone's version and :data:`FEATURES_VERSION`. Files are written to a
temporary name and renamed, so an interrupted run leaves no half file. Arrays are plain ``.npy`` read with
``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from photo_tagger.pipeline.backbones.runtime import Backbone
from photo_tagger.pipeline.images import load_image
from photo_tagger.training.dataset import LabelledImages

log = logging.getLogger(__name__)

FEATURES_VERSION = "views1"  # bump when decoding or a view changes, so old caches are not reused
VIEWS = ("centre", "flip", "full", "full_flip")
BATCH_IMAGES = 16


@dataclass(frozen=True)
class Features:
    """Per view, ``[N, D]`` float32 features in dataset order; ``probs`` are the centre view's ImageNet probs."""

    views: dict[str, np.ndarray]
    probs: np.ndarray
    backbone_version: str
    key: str

    @property
    def centre(self) -> np.ndarray:
        return self.views["centre"]


def _crops(backbone: Backbone, path: Path, views: Sequence[str]) -> list[np.ndarray]:
    image = load_image(path, min_side=max(backbone.spec.resize_size, 320)).image
    centre = backbone.prepare(image)
    out = []
    for view in views:
        if view == "centre":
            out.append(centre)
        elif view == "flip":
            out.append(np.ascontiguousarray(centre[:, ::-1]))
        else:
            size = backbone.spec.input_size
            full = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0), np.uint8)
            out.append(full if view == "full" else np.ascontiguousarray(full[:, ::-1]))
    return out


def cache_key(dataset_key: str, backbone_version: str) -> str:
    return hashlib.sha256(f"{dataset_key}|{backbone_version}|{FEATURES_VERSION}".encode()).hexdigest()[:20]


def _paths(cache_dir: Path, backbone: Backbone, key: str, views: Sequence[str]) -> dict[str, Path]:
    folder = cache_dir / "features"
    stem = f"{backbone.name}-{key}"
    paths = {view: folder / f"{stem}-{view}.npy" for view in views}
    paths["probs"] = folder / f"{stem}-centre-probs.npy"
    return paths


def extract_features(dataset: LabelledImages, backbone: Backbone, cache_dir: Path,
                     views: Sequence[str] = VIEWS, progress: bool | None = None,
                     workers: int | None = None) -> Features:
    """Every view's features for ``dataset`` from the cache, extracting (with a progress bar) what is missing.

    ``progress=None`` shows the bar only when stderr is a terminal.
    """
    views = tuple(dict.fromkeys(("centre", *views)))
    unknown = set(views) - set(VIEWS)
    if unknown:
        raise ValueError(f"unknown views {sorted(unknown)}; choose from {VIEWS}")
    key = cache_key(dataset.content_key(), backbone.version)
    paths = _paths(Path(cache_dir), backbone, key, views)
    cached = {name: np.load(p, allow_pickle=False) for name, p in paths.items() if p.is_file()}
    if all(name in cached for name in paths) and all(len(a) == len(dataset) for a in cached.values()):
        log.info("features of %s (%s) from the cache", dataset.name, backbone.version)
        return Features({v: cached[v] for v in views}, cached["probs"], backbone.version, key)
    missing = [v for v in views if v not in cached or (v == "centre" and "probs" not in cached)]
    arrays = _run(dataset, backbone, missing, progress, workers)
    for name, array in arrays.items():
        _save(paths[name], array)
        cached[name] = array
    return Features({v: cached[v] for v in views}, cached["probs"], backbone.version, key)


def _run(dataset: LabelledImages, backbone: Backbone, views: Sequence[str], progress: bool | None,
         workers: int | None) -> dict[str, np.ndarray]:
    workers = workers or backbone.settings.thread_count()
    backbone.load()
    out = {v: np.zeros((len(dataset), backbone.spec.feature_dim), np.float32) for v in views}
    probs = np.zeros((len(dataset), 1000), np.float32)
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    bar = tqdm(total=len(dataset), desc=f"features ({backbone.name}, {len(views)} views)", unit="photo",
               file=sys.stderr, disable=disable, dynamic_ncols=True)
    with bar, ThreadPoolExecutor(workers, thread_name_prefix="features") as pool:
        window: deque[tuple[int, Future[list[np.ndarray]]]] = deque()
        batch: list[tuple[int, list[np.ndarray]]] = []
        for index, path in enumerate(dataset.paths):
            window.append((index, pool.submit(_crops, backbone, path, views)))
            if len(window) >= 2 * BATCH_IMAGES:
                batch.append((window[0][0], window.popleft()[1].result()))
            if len(batch) == BATCH_IMAGES:
                _flush(backbone, batch, views, out, probs, bar)
        while window:
            batch.append((window[0][0], window.popleft()[1].result()))
            if len(batch) == BATCH_IMAGES:
                _flush(backbone, batch, views, out, probs, bar)
        _flush(backbone, batch, views, out, probs, bar)
    return {**out, "probs": probs} if "centre" in views else out


def _flush(backbone: Backbone, batch: list[tuple[int, list[np.ndarray]]], views: Sequence[str],
           out: dict[str, np.ndarray], probs: np.ndarray, bar: tqdm) -> None:
    if not batch:
        return
    crops = [crop for _, image_crops in batch for crop in image_crops]
    features, class_probs = backbone.run(crops)
    rows = [index for index, _ in batch]
    for v, view in enumerate(views):
        out[view][rows] = features[v::len(views)]
        if view == "centre":
            probs[rows] = class_probs[v::len(views)]
    bar.update(len(batch))
    batch.clear()


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.part.npy")
    np.save(partial, array, allow_pickle=False)
    partial.replace(path)
