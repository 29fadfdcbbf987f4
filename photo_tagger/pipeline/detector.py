"""YOLOX-nano object detector (COCO, 80 classes) on ONNX Runtime: photo -> boxes -> object tags.

The model, as exported, takes ``images`` float32 1x3x416x416 (BGR, 0-255, the photo letterboxed top-left
on 114 grey) and returns ``output`` float32 1x3549x85: one row per grid cell of strides 8, 16 and 32 (52x52 +
26x26 + 13x13), with columns x, y, log w, log h (relative to the cell), objectness, then 80 class scores
(already sigmoid-ed).

The batch dimension is fixed at 1 *inside* the graph, not only in its declared input shape: the head's
Reshape nodes carry a literal 1, so a 2x3x416x416 input, even with the input dimension made symbolic, comes
out as 1x7098x85 (the two photos' rows run together). ``detect`` therefore runs one image at a time for this
model; it batches only when a model declares a symbolic batch dimension.

Example::

    detector = YoloxDetector(models / "yolox_nano.onnx", read_class_names(models / "coco_classes.txt"))
    detections = detector.detect([image], [photo_size])[0]   # loads the model on first use
    tags = tags_from_detections(detections, min_score=0.4)  # one Tag per class, best score
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from photo_tagger.pipeline.errors import ModelLoadError, ModelMissingError
from photo_tagger.pipeline.types import Detection, Tag

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

MODEL_NAME = "yolox-nano"
INPUT_SIZE = 416
STRIDES = (8, 16, 32)
PAD_VALUE = 114
# A bound on the (cell, class) pairs that enter NMS, best first. At the default threshold a photo yields a
# few hundred; the bound only matters when a caller asks for a very low threshold, where greedy NMS would
# otherwise loop over tens of thousands of boxes.
MAX_CANDIDATES = 4000


# The label file uses some PASCAL VOC spellings; tags use the words people type (and COCO's own names).
FRIENDLY_LABELS = {
    "motorbike": "motorcycle",
    "aeroplane": "airplane",
    "sofa": "couch",
    "pottedplant": "potted plant",
    "diningtable": "dining table",
    "tvmonitor": "tv",
}


def read_class_names(path: Path) -> list[str]:
    """The class names in the model's output order, one per non-empty line, in their everyday spelling."""
    names = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [FRIENDLY_LABELS.get(name, name) for name in names]


def _make_grids(input_size: int, strides: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Cell offsets (N x 2, x then y) and strides (N x 1) in the row order of the model's output.

    Within one stride the rows run along x first: row ``y * width + x``.
    """
    grids, cell_strides = [], []
    for stride in strides:
        size = input_size // stride
        ys, xs = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        grids.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        cell_strides.append(np.full((size * size, 1), stride))
    return np.concatenate(grids).astype(np.float32), np.concatenate(cell_strides).astype(np.float32)


@lru_cache(maxsize=16)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed on size and mtime as well as the path: a re-downloaded file is hashed again; otherwise once.
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preprocess(image: Image.Image, input_size: int = INPUT_SIZE) -> tuple[np.ndarray, float]:
    """Letterbox ``image`` into the model's input: float32 3 x size x size, BGR, 0-255, top-left, 114 around.

    Returns the array and the resize ratio (model pixels per image pixel). The resize runs in PIL on the RGB
    image; the channel flip and the layout change are one numpy copy.

    Example: a 768x576 photo is resized by 416/768 = 0.5417 to 416x312; rows 312-415 are 114.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    ratio = min(input_size / width, input_size / height)
    new_size = (max(1, int(width * ratio)), max(1, int(height * ratio)))
    # reducing_gap lets PIL box-reduce a large image by an integer factor before the bilinear pass: a 4000 px
    # photo handed over without a JPEG draft resizes in half the time, and below 6x it changes nothing.
    resized = np.asarray(image.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=3.0))
    out = np.full((3, input_size, input_size), PAD_VALUE, dtype=np.float32)
    out[:, : new_size[1], : new_size[0]] = resized[:, :, ::-1].transpose(2, 0, 1)
    return out, ratio


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns the indices kept, best score first.

    A box is dropped when its IoU with a better box already kept is above ``iou_threshold``. Each step
    compares the best remaining box with all the others at once, so the loop runs once per box kept.
    """
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        inter_w = np.clip(np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]), 0, None)
        inter_h = np.clip(np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]), 0, None)
        inter = inter_w * inter_h
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """Per-class NMS in one pass: boxes of different classes never suppress each other.

    Each class's boxes are shifted by its own offset, larger than the extent of all boxes, so boxes of two
    classes cannot overlap; then one plain NMS does every class at once (torchvision's ``batched_nms`` trick).
    """
    if boxes.size == 0:
        return np.zeros(0, dtype=np.intp)
    extent = float(boxes.max() - boxes.min()) + 1.0
    shifted = boxes + (class_ids.astype(boxes.dtype) * extent)[:, None]
    return nms(shifted, scores, iou_threshold)


def tags_from_detections(detections: Iterable[Detection], min_score: float) -> list[Tag]:
    """One ``Tag`` per class detected at ``min_score`` or above, scored by its best detection, best first."""
    best: dict[str, float] = {}
    for d in detections:
        if d.score >= min_score and d.score > best.get(d.label, -1.0):
            best[d.label] = d.score
    ranked = sorted(best.items(), key=_by_score)
    return [Tag(name=label, score=score, source="detector") for label, score in ranked]


def _by_score(item: tuple[str, float]) -> tuple[float, str]:
    return -item[1], item[0]


def count_by_label(detections: Iterable[Detection], min_score: float = 0.0) -> dict[str, int]:
    """How many objects of each class, e.g. ``{"person": 3, "kite": 2}``, most frequent first."""
    return dict(Counter(d.label for d in detections if d.score >= min_score).most_common())


class YoloxDetector:
    """YOLOX-nano with a model lifecycle: ``load()`` (lazily, under a lock), ``detect``, ``unload()``.

    ``threads`` is ONNX Runtime's intra-op thread count (0 = its default, one per physical core). ``detect``
    may be called from several threads at once; ORT sessions are safe for concurrent ``run`` calls, and on a
    small machine two callers with ``threads=1`` get more photos through than one caller with two threads.
    """

    def __init__(
        self,
        model_path: Path,
        class_names: list[str],
        threads: int = 0,
        score_threshold: float = 0.25,
        nms_iou: float = 0.45,
    ) -> None:
        self.model_path = Path(model_path)
        self.class_names = list(class_names)
        self.threads = threads
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self._grid, self._strides = _make_grids(INPUT_SIZE, STRIDES)
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._input_name = ""
        self._batch_size: int | None = 1  # None: the model takes any batch size

    # -- lifecycle ----------------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._session is not None

    @property
    def version(self) -> str:
        """``"yolox-nano-"`` + the first 12 hex digits of the file's sha256: ``yolox-nano-695e750a5d57``."""
        if not self.model_path.is_file():
            raise ModelMissingError(MODEL_NAME, self.model_path, "download the detector model first")
        stat = self.model_path.stat()
        return f"{MODEL_NAME}-{_file_sha256(str(self.model_path), stat.st_size, stat.st_mtime_ns)[:12]}"

    @property
    def batch_size(self) -> int | None:
        """Images per ORT run: the model's fixed batch size, or None when it is symbolic. Loads the model."""
        self.load()
        return self._batch_size

    def load(self) -> onnxruntime.InferenceSession:
        """Create the ORT session if there is none; cheap when already loaded."""
        session = self._session
        if session is not None:
            return session
        # Two threads may reach here at once on a first batch; the lock makes one of them build the session
        # and the other wait for it, instead of both paying the load.
        with self._lock:
            if self._session is None:
                self._session = self._create_session()
            return self._session

    def unload(self) -> None:
        """Drop the session (its memory goes when the last running ``detect`` holding it returns)."""
        with self._lock:
            self._session = None

    def _create_session(self) -> onnxruntime.InferenceSession:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

        if not self.model_path.is_file():
            raise ModelMissingError(MODEL_NAME, self.model_path, "download the detector model first")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        load_errors = (
            ort_state.Fail,
            ort_state.InvalidArgument,
            ort_state.InvalidProtobuf,
            ort_state.InvalidGraph,
            ort_state.NoModel,
            ort_state.NoSuchFile,
            ort_state.NotImplemented,
            ort_state.RuntimeException,
        )
        try:
            session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        except load_errors as exc:
            raise ModelLoadError(self.model_path, _readable_ort_error(exc)) from exc

        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(self.model_path, "expected one input and one output: not a YOLOX export")
        in_shape, out_shape = inputs[0].shape, outputs[0].shape
        expected_rows, expected_cols = len(self._grid), 5 + len(self.class_names)
        # Symbolic dimensions come back as strings or None; only fixed ones can be checked.
        fixed_out = [d for d in out_shape[1:] if isinstance(d, int)]
        if list(in_shape[1:]) != [3, INPUT_SIZE, INPUT_SIZE] or (
            len(fixed_out) == 2 and fixed_out != [expected_rows, expected_cols]
        ):
            raise ModelLoadError(
                self.model_path,
                f"input {in_shape} / output {out_shape} do not match YOLOX at {INPUT_SIZE}px "
                f"with {len(self.class_names)} classes",
            )
        self._input_name = inputs[0].name
        batch = in_shape[0]
        self._batch_size = batch if isinstance(batch, int) and batch > 0 else None
        log.info(
            "loaded %s (%s), batch %s, %s threads",
            self.model_path.name,
            MODEL_NAME,
            self._batch_size or "dynamic",
            self.threads or "default",
        )
        return session

    # -- inference ----------------------------------------------------------------------------------------

    def detect(
        self,
        images: Sequence[Image.Image],
        original_sizes: Sequence[tuple[int, int]] | None = None,
    ) -> list[list[Detection]]:
        """Detect objects in each image; one list per image, best score first.

        ``images`` may be reduced copies of the photos (a JPEG draft, a thumbnail); ``original_sizes`` gives
        each photo's full (width, height), and boxes come back in those pixels, clipped to the photo. Without
        it the boxes are in the pixels of the image given.

        Example: a 384x288 draft of a 768x576 photo, with ``original_sizes=[(768, 576)]``, gives boxes twice
        as large as the draft's own coordinates.
        """
        if original_sizes is None:
            original_sizes = [im.size for im in images]
        if len(original_sizes) != len(images):
            raise ValueError(f"{len(images)} images but {len(original_sizes)} original sizes")
        if not images:
            return []
        prepared = [preprocess(im) for im in images]
        return self.detect_prepared(
            [inputs for inputs, _ in prepared], [ratio for _, ratio in prepared], [im.size for im in images],
            original_sizes,
        )

    def detect_prepared(
        self,
        inputs: Sequence[np.ndarray],
        ratios: Sequence[float],
        image_sizes: Sequence[tuple[int, int]],
        original_sizes: Sequence[tuple[int, int]],
    ) -> list[list[Detection]]:
        """:meth:`detect` for images already letterboxed by :func:`preprocess` (the engine does that on its decode
        threads, so only the network runs here). ``image_sizes`` are the sizes of the images that were letterboxed.
        """
        if not inputs:
            return []
        session = self.load()
        step = self._batch_size or max(1, len(inputs))
        results: list[list[Detection]] = []
        for start in range(0, len(inputs), step):
            end = start + step
            (output,) = session.run(None, {self._input_name: np.stack(inputs[start:end])})
            for rows, image_size, ratio, size in zip(
                output, image_sizes[start:end], ratios[start:end], original_sizes[start:end], strict=True
            ):
                results.append(self._postprocess(rows, image_size, ratio, size))
        return results

    def _postprocess(
        self, rows: np.ndarray, image_size: tuple[int, int], ratio: float, original_size: tuple[int, int]
    ) -> list[Detection]:
        boxes, scores, class_ids = self.decode(rows)
        if scores.size == 0:
            return []
        # 416 frame -> the image given (undo the letterbox) -> the full photo (undo any draft reduction).
        scale_x = original_size[0] / image_size[0] / ratio
        scale_y = original_size[1] / image_size[1] / ratio
        boxes = boxes * np.array([scale_x, scale_y, scale_x, scale_y], dtype=np.float32)
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, original_size[0])
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, original_size[1])
        return [
            Detection(label=self.class_names[c], score=s, box=(b[0], b[1], b[2], b[3]))
            for b, s, c in zip(boxes.tolist(), scores.tolist(), class_ids.tolist(), strict=True)
            # a box wholly outside the photo (it happens at the padded edge) clips to nothing
            if b[2] > b[0] and b[3] > b[1]
        ]

    def decode(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One image's raw output (3549 x 85) -> boxes (x0, y0, x1, y1 in the 416 frame), scores, class ids.

        Score = objectness x class score; every (cell, class) pair above the threshold is a candidate, then
        per-class NMS. Sorted by score, best first.
        """
        scores = rows[:, 4:5] * rows[:, 5:]
        cells, class_ids = np.nonzero(scores > self.score_threshold)
        cand_scores = scores[cells, class_ids]
        if cand_scores.size > MAX_CANDIDATES:
            top = np.argpartition(-cand_scores, MAX_CANDIDATES)[:MAX_CANDIDATES]
            cells, class_ids, cand_scores = cells[top], class_ids[top], cand_scores[top]
        centre = (rows[cells, :2] + self._grid[cells]) * self._strides[cells]
        half = np.exp(rows[cells, 2:4]) * self._strides[cells] / 2
        boxes = np.concatenate((centre - half, centre + half), axis=1)
        keep = batched_nms(boxes, cand_scores, class_ids, self.nms_iou)
        return boxes[keep], cand_scores[keep], class_ids[keep]


def _readable_ort_error(exc: Exception) -> str:
    """ORT's message without its code prefix and the path it repeats, e.g. "Protobuf parsing failed.".

    "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model from /m.onnx failed:Protobuf parsing failed."
    -> "not a valid ONNX model (Protobuf parsing failed.); delete the file so it is downloaded again"
    """
    message = str(exc)
    detail = message.rsplit("failed:", 1)[-1].strip() if "failed:" in message else message
    return f"not a valid ONNX model ({detail}); delete the file so it is downloaded again"
