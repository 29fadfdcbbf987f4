"""The COCO detector's findings on dataset photos, computed once and cached like the backbone features.

Calibration and evaluation need, per photo, the best score of each class the engine's detector reports (its own
0.25 floor, the engine's setting). Photos are decoded as the engine decodes them and run on a thread pool with one
single-threaded ONNX session per call, as the engine does. The cache is one JSON file per detector version and
dataset, ``<cache_dir>/detections/<detector>-<key>.json``: ``{relative path: {label: best score}}``; photos asked
for later are added to it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from photo_tagger.pipeline.detector import YoloxDetector
from photo_tagger.pipeline.images import load_image
from photo_tagger.training.dataset import LabelledImages

DetectorScores = dict[str, float]


def _detect(detector: YoloxDetector, path: Path) -> DetectorScores:
    decoded = load_image(path, min_side=320)
    best: DetectorScores = {}
    for detection in detector.detect([decoded.image], [(decoded.width, decoded.height)])[0]:
        best[detection.label] = max(best.get(detection.label, 0.0), round(float(detection.score), 5))
    return best


def detect_dataset(dataset: LabelledImages, indices: Sequence[int], detector: YoloxDetector, cache_dir: Path,
                   dataset_key: str, workers: int = 2, progress: bool | None = None) -> list[DetectorScores]:
    """Per photo in ``indices``, ``{label: best score}`` from the cache, detecting what is missing."""
    path = Path(cache_dir) / "detections" / f"{detector.version}-{dataset_key[:20]}.json"
    cache: dict[str, DetectorScores] = json.loads(path.read_text()) if path.is_file() else {}
    wanted = [(i, dataset.relative(i)) for i in indices]
    missing = [(i, rel) for i, rel in wanted if rel not in cache]
    if missing:
        disable = (not sys.stderr.isatty()) if progress is None else not progress
        with ThreadPoolExecutor(workers, thread_name_prefix="detect") as pool, \
                tqdm(total=len(missing), desc="detector", unit="photo", file=sys.stderr, disable=disable) as bar:
            for (_, rel), found in zip(missing, pool.map(lambda m: _detect(detector, dataset.paths[m[0]]), missing),
                                       strict=True):
                cache[rel] = found
                bar.update(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        partial.write_text(json.dumps(cache, sort_keys=True))
        partial.replace(path)
    return [cache[rel] for _, rel in wanted]
