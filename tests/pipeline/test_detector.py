"""YoloxDetector on the real YOLOX-nano weights and the shared sample photos, plus NMS on hand-made boxes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photo_tagger.pipeline.detector import (
    YoloxDetector,
    batched_nms,
    count_by_label,
    nms,
    preprocess,
    read_class_names,
    tags_from_detections,
)
from photo_tagger.pipeline.errors import ModelLoadError, ModelMissingError
from photo_tagger.pipeline.types import Detection

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MODEL = SHARED / "models" / "yolox_nano.onnx"
CLASSES = SHARED / "models" / "coco_classes.txt"
PHOTOS = SHARED / "photos"


@pytest.fixture(scope="module")
def class_names() -> list[str]:
    return read_class_names(CLASSES)


@pytest.fixture(scope="module")
def detector(class_names: list[str]) -> YoloxDetector:
    return YoloxDetector(MODEL, class_names, threads=1)


def open_photo(name: str) -> Image.Image:
    with Image.open(PHOTOS / name) as image:
        return image.convert("RGB")


def best(detections: list[Detection], label: str) -> Detection:
    return max((d for d in detections if d.label == label), key=lambda d: d.score)


def assert_inside(detections: list[Detection], size: tuple[int, int]) -> None:
    for d in detections:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1], d


# -- real photos ----------------------------------------------------------------------------------------


def test_dog_photo_finds_dog_bicycle_car_in_plausible_places(detector: YoloxDetector) -> None:
    photo = open_photo("dog.jpg")
    width, height = photo.size
    (detections,) = detector.detect([photo])

    labels = {d.label for d in detections if d.score > 0.4}
    assert {"dog", "bicycle", "car"} <= labels
    assert_inside(detections, photo.size)
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True)

    x0, y0, x1, y1 = best(detections, "dog").box
    assert (x0 + x1) / 2 < width / 2 and (y0 + y1) / 2 > height / 2  # the dog sits bottom-left
    assert (x1 - x0) * (y1 - y0) > 0.05 * width * height
    x0, y0, x1, y1 = best(detections, "car").box
    assert (x0 + x1) / 2 > width / 2 and (y0 + y1) / 2 < height / 2  # the car is parked top-right


def test_horses_photo_finds_horse(detector: YoloxDetector) -> None:
    photo = open_photo("horses.jpg")
    (detections,) = detector.detect([photo])
    assert best(detections, "horse").score > 0.4
    assert_inside(detections, photo.size)


def test_giraffe_photo_finds_giraffe_and_zebra(detector: YoloxDetector) -> None:
    photo = open_photo("giraffe.jpg")
    (detections,) = detector.detect([photo])
    assert best(detections, "giraffe").score > 0.4
    assert best(detections, "zebra").score > 0.4
    assert_inside(detections, photo.size)


def test_reduced_copy_with_original_size_gives_full_size_boxes(detector: YoloxDetector) -> None:
    photo = open_photo("dog.jpg")
    reduced = photo.reduce(2)
    (full,) = detector.detect([photo])
    (mapped,) = detector.detect([reduced], [photo.size])
    tolerance = 0.03 * max(photo.size)
    for label in ("dog", "bicycle", "car"):
        np.testing.assert_allclose(best(mapped, label).box, best(full, label).box, atol=tolerance)
    assert_inside(mapped, photo.size)

    # Without the original size the boxes stay in the reduced image's pixels.
    (own,) = detector.detect([reduced])
    assert_inside(own, reduced.size)
    np.testing.assert_allclose(np.array(best(own, "dog").box) * 2, best(mapped, "dog").box, rtol=1e-4)


def test_several_images_give_one_list_each_in_order(detector: YoloxDetector) -> None:
    photos = [open_photo("giraffe.jpg"), open_photo("dog.jpg"), open_photo("horses.jpg")]
    together = detector.detect(photos)
    assert together == [detector.detect([photo])[0] for photo in photos]
    assert detector.batch_size == 1  # the graph's Reshapes fix the batch at 1, so images run one at a time


def test_mismatched_original_sizes_are_rejected(detector: YoloxDetector) -> None:
    with pytest.raises(ValueError, match="original sizes"):
        detector.detect([open_photo("giraffe.jpg")], [(500, 500), (10, 10)])


def test_tags_from_real_detections(detector: YoloxDetector) -> None:
    (detections,) = detector.detect([open_photo("dog.jpg")])
    tags = tags_from_detections(detections, min_score=0.4)
    assert {t.name for t in tags} >= {"dog", "bicycle", "car"}
    assert all(t.source == "detector" and t.score >= 0.4 for t in tags)


# -- lifecycle ------------------------------------------------------------------------------------------


def test_model_loads_lazily_and_unloads(class_names: list[str]) -> None:
    detector = YoloxDetector(MODEL, class_names)
    assert not detector.loaded
    assert detector.detect([]) == []
    assert not detector.loaded
    detector.detect([open_photo("giraffe.jpg")])
    assert detector.loaded
    detector.unload()
    assert not detector.loaded
    assert best(detector.detect([open_photo("giraffe.jpg")])[0], "giraffe").score > 0.4


def test_version_is_the_file_sha256_prefix(class_names: list[str]) -> None:
    detector = YoloxDetector(MODEL, class_names)
    digest = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    assert detector.version == "yolox-nano-" + digest[:12]
    assert detector.version == "yolox-nano-695e750a5d57"  # the sha256 published in shared/models/README.md
    assert not detector.loaded


def test_corrupt_model_file_raises_model_load_error(tmp_path: Path, class_names: list[str]) -> None:
    corrupt = tmp_path / "yolox_nano.onnx"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    detector = YoloxDetector(corrupt, class_names)
    with pytest.raises(ModelLoadError) as info:
        detector.detect([open_photo("giraffe.jpg")])
    assert info.value.path == corrupt
    message = str(info.value)
    assert (
        str(corrupt) in message
        and "not a valid ONNX model" in message
        and "[ONNXRuntimeError]" not in message
    )
    assert not detector.loaded


def test_missing_model_file_raises_model_missing_error(tmp_path: Path, class_names: list[str]) -> None:
    with pytest.raises(ModelMissingError) as info:
        YoloxDetector(tmp_path / "absent.onnx", class_names).load()
    assert info.value.name == "yolox-nano" and info.value.path == tmp_path / "absent.onnx"


def test_wrong_class_list_is_a_load_error(class_names: list[str]) -> None:
    with pytest.raises(ModelLoadError, match="81 classes"):
        YoloxDetector(MODEL, [*class_names, "unicorn"]).load()


# -- preprocessing and decoding on hand-made input ---------------------------------------------------------


def test_preprocess_letterboxes_top_left_in_bgr() -> None:
    red = Image.new("RGB", (200, 100), (255, 0, 0))
    array, ratio = preprocess(red)
    assert array.shape == (3, 416, 416) and array.dtype == np.float32
    assert ratio == pytest.approx(416 / 200)
    assert np.all(array[2, :208] == 255) and np.all(array[:2, :208] == 0)  # red is the last channel in BGR
    assert np.all(array[:, 208:] == 114)


def test_nms_keeps_the_best_of_overlapping_boxes_of_one_class() -> None:
    boxes = np.array([[10, 10, 110, 110], [15, 12, 112, 108], [300, 300, 350, 350]], dtype=np.float32)
    scores = np.array([0.6, 0.9, 0.5], dtype=np.float32)
    assert nms(boxes, scores, 0.45).tolist() == [1, 2]
    assert batched_nms(boxes, scores, np.array([3, 3, 3]), 0.45).tolist() == [1, 2]


def test_nms_keeps_overlapping_boxes_of_different_classes() -> None:
    boxes = np.array([[10, 10, 110, 110], [15, 12, 112, 108]], dtype=np.float32)
    scores = np.array([0.6, 0.9], dtype=np.float32)
    assert batched_nms(boxes, scores, np.array([0, 16]), 0.45).tolist() == [1, 0]
    nothing = np.zeros((0, 4), np.float32)
    assert batched_nms(nothing, np.zeros(0, np.float32), np.zeros(0, int), 0.45).size == 0


def test_tags_and_counts_per_class() -> None:
    detections = [
        Detection("person", 0.9, (0, 0, 1, 1)),
        Detection("kite", 0.5, (0, 0, 1, 1)),
        Detection("person", 0.7, (0, 0, 1, 1)),
        Detection("kite", 0.8, (0, 0, 1, 1)),
        Detection("person", 0.3, (0, 0, 1, 1)),
    ]
    tags = tags_from_detections(detections, min_score=0.4)
    assert [(t.name, t.score, t.source) for t in tags] == [
        ("person", 0.9, "detector"),
        ("kite", 0.8, "detector"),
    ]
    assert count_by_label(detections) == {"person": 3, "kite": 2}
    assert count_by_label(detections, min_score=0.6) == {"person": 2, "kite": 1}
