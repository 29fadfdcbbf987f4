"""Detector boxes for the overlay, computed on demand and kept in memory.

The store keeps the detector's *tags* but not its boxes, so the overlay runs the pipeline's own YOLOX-nano again,
on the images pool, for the photo being looked at, with the same model file and score threshold the tagger
used: the boxes are the ones that produced the photo's detector tags. That costs about 30 ms per photo (decode +
network) the first time; results are cached by content hash, so flipping back and forth is free. Storing boxes at
tagging time would need a store change, and re-detecting keeps the overlay right after a model update too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from photo_tagger.config import Settings
from photo_tagger.pipeline.types import Detection
from photo_tagger.store import PhotoInfo

CACHE_SIZE = 512
DETECT_MIN_SIDE = 416  # the detector's input size: a larger decode would only be shrunk again


class DetectorUnavailable(RuntimeError):
    """The detector's model file is not installed; the message says how to get it."""


class Detections:
    """Thread-safe: called on the images pool; the model loads on first use, under a lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._detector = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, list[Detection]] = OrderedDict()

    def cached(self, photo: PhotoInfo) -> list[Detection] | None:
        with self._lock:
            return self._cache.get(self._key(photo))

    def detect(self, photo: PhotoInfo) -> list[Detection]:
        key = self._key(photo)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        from photo_tagger.pipeline.images import load_image

        decoded = load_image(photo.path, min_side=DETECT_MIN_SIDE)
        found = self._load().detect([decoded.image], [(decoded.width, decoded.height)])[0]
        threshold = self.settings.thresholds["detector"]
        boxes = [detection for detection in found if detection.score >= threshold]
        with self._lock:
            self._cache[key] = boxes
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return boxes

    def _load(self):  # noqa: ANN202 - a YoloxDetector, imported lazily with the pipeline
        with self._lock:
            if self._detector is None:
                from photo_tagger.pipeline.detector import YoloxDetector, read_class_names
                from photo_tagger.pipeline.models import find_model_file, manifest_entry

                model = find_model_file(manifest_entry("yolox_nano"), self.settings)
                labels = find_model_file(manifest_entry("coco_classes"), self.settings)
                if model is None or labels is None:
                    raise DetectorUnavailable(
                        f"The object detector is not installed in {self.settings.models_dir}; "
                        "run `photo-tagger models fetch` to download it."
                    )
                self._detector = YoloxDetector(model, read_class_names(labels), threads=1)
            return self._detector

    @staticmethod
    def _key(photo: PhotoInfo) -> str:
        return photo.content_hash or f"{photo.path}@{photo.mtime_ns}"
