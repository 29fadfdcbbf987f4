"""A backbone as a model object with a lifecycle: locate weights, load lazily under a lock, predict, unload.

The default runtime compiles the PyTorch module once into an ONNX graph cached under the cache folder and runs it with
ONNX Runtime, which folds BatchNorm and the TF "SAME" pads into the convolutions and fuses the ReLU6 clips: about 4x
the throughput of eager PyTorch for EfficientNet-Lite0 on a 2-core CPU, with the same outputs to 1e-5. The graph takes
uint8 NHWC crops straight from Pillow, so normalisation and the layout change happen inside the graph, not in NumPy.
The eager ``torch`` runtime stays for checking and as a fallback if export fails.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from photo_tagger.pipeline.backbones.registry import BackboneSpec, get_backbone_spec
from photo_tagger.pipeline.errors import ModelLoadError
from photo_tagger.pipeline.models import manifest_entry, sha256_of

if TYPE_CHECKING:
    from photo_tagger.config import Settings

log = logging.getLogger(__name__)

RUNTIMES = ("onnx", "torch")


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class Backbone:
    """Pooled features and ImageNet probabilities for batches of photos.

    ``prepare`` runs on decode threads (Pillow releases the GIL while resizing); ``run`` runs the network on a batch.
    """

    def __init__(self, spec: BackboneSpec, settings: Settings, runtime: str = "onnx",
                 weights_path: Path | None = None, threads: int | None = None) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; choose one of {RUNTIMES}")
        self.spec = spec
        self.settings = settings
        self.runtime = runtime
        self._weights_path = weights_path
        # Intra-op threads for one run. The engine passes 1 and runs one photo per core instead: on a small CPU
        # that keeps every core busy with no synchronisation, and a batch of one is as fast per photo as 32.
        self.threads = threads if threads is not None else settings.thread_count()
        self._lock = threading.Lock()
        self._module = None
        self._session = None
        self._classifier: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, runtime: str = "onnx", threads: int | None = None) -> Backbone:
        return cls(get_backbone_spec(settings.backbone), settings, runtime, threads=threads)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return f"{self.spec.name}:{manifest_entry(self.spec.weights_name).version}"

    @property
    def loaded(self) -> bool:
        return self._module is not None or self._session is not None

    # -- preprocessing ---------------------------------------------------------------------------------------------

    def prepare(self, image: Image.Image) -> np.ndarray:
        """Resize the shorter side to ``resize_size`` and centre-crop ``input_size``: uint8 HxWx3 RGB."""
        size, crop = self.spec.resize_size, self.spec.input_size
        width, height = image.size
        scale = size / min(width, height)
        resized = (max(crop, round(width * scale)), max(crop, round(height * scale)))
        # reducing_gap lets Pillow shrink by an integer factor first: same look, much less work on big inputs.
        image = image.resize(resized, Image.Resampling.BILINEAR, reducing_gap=3.0)
        left, top = (resized[0] - crop) // 2, (resized[1] - crop) // 2
        return np.asarray(image.crop((left, top, left + crop, top + crop)), dtype=np.uint8)

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def load(self) -> None:
        with self._lock:
            if self.loaded:
                return
            weights = self._weights_path or self.spec.locate_weights(self.settings)
            module = self._load_module(weights)
            if self._classifier is None:  # the module is at hand: no second read of the weights for classifier()
                self._keep_classifier(module, weights)
            if self.runtime == "torch":
                self._module = module
                return
            self._session = self._onnx_session(module, weights)

    def unload(self) -> None:
        with self._lock:
            self._module = None
            self._session = None

    def _load_module(self, weights: Path):  # noqa: ANN202 - torch.nn.Module, torch imported lazily
        import torch

        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises assorted types for corrupt files
            raise ModelLoadError(weights, f"not a readable PyTorch state dict ({error})") from error
        module = self.spec.build()
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise ModelLoadError(weights, f"weights do not fit {self.spec.name}: {error}") from error
        return module.eval()

    def _onnx_session(self, module, weights: Path):  # noqa: ANN001, ANN202
        import onnxruntime as ort

        graph = self._compiled_graph_path(weights)
        if not graph.is_file():
            self._export_onnx(module, graph)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # a stale or damaged cache entry: rebuild it once
            log.warning("rebuilding compiled backbone %s (%s)", graph, error)
            graph.unlink(missing_ok=True)
            self._export_onnx(module, graph)
            return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def _compiled_graph_path(self, weights: Path) -> Path:
        import torch

        key = f"{sha256_of(weights)[:16]}-{self.spec.input_size}-torch{torch.__version__.split('+')[0]}"
        return self.settings.cache_dir / "compiled" / f"{self.spec.name}-{key}.onnx"

    def _export_onnx(self, module, graph: Path) -> None:  # noqa: ANN001
        import torch

        wrapped = _Uint8Input(module, self.spec).eval()
        graph.parent.mkdir(parents=True, exist_ok=True)
        partial = graph.with_name(f"{graph.name}.{os.getpid()}.part")
        example = torch.zeros(2, self.spec.input_size, self.spec.input_size, 3, dtype=torch.uint8)
        log.info("compiling %s for ONNX Runtime into %s", self.spec.name, graph)
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about the static SAME-padding arithmetic are expected
            torch.onnx.export(
                wrapped, (example,), str(partial), input_names=["images"], output_names=["features", "logits"],
                dynamic_axes={"images": {0: "n"}, "features": {0: "n"}, "logits": {0: "n"}},
                opset_version=17, dynamo=False,
            )
        partial.replace(graph)

    # -- inference -------------------------------------------------------------------------------------------------

    def run(self, crops: list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features [N, D] float32, ImageNet probabilities [N, 1000] float32) for prepared uint8 crops."""
        batch = np.ascontiguousarray(np.stack(crops) if isinstance(crops, list) else crops, dtype=np.uint8)
        if not self.loaded:
            self.load()
        if self._session is not None:
            features, logits = self._session.run(None, {"images": batch})
        else:
            features, logits = self._run_torch(batch)
        return features.astype(np.float32, copy=False), softmax(logits.astype(np.float32, copy=False))

    def classifier(self) -> tuple[np.ndarray, np.ndarray]:
        """The ImageNet classifier's weight ``[1000, D]`` and bias ``[1000]`` as float32 NumPy arrays.

        Re-tagging a library from stored features needs the ImageNet probabilities without the CNN; they are one
        linear layer away from the features. Kept in the cache folder beside the compiled graph, so re-tagging does
        not even import torch.
        """
        with self._lock:
            if self._classifier is not None:
                return self._classifier
            weights = self._weights_path or self.spec.locate_weights(self.settings)
            cached = self._classifier_path(weights)
            try:
                with np.load(cached) as stored:
                    self._classifier = (stored["weight"], stored["bias"])
                return self._classifier
            except (OSError, KeyError, ValueError):
                pass
            return self._keep_classifier(self._module or self._load_module(weights), weights)

    def _classifier_path(self, weights: Path) -> Path:
        return self.settings.cache_dir / "compiled" / f"{self.spec.name}-{sha256_of(weights)[:16]}-classifier.npz"

    def _keep_classifier(self, module, weights: Path) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        """Take the classifier from a loaded module, in memory and in the cache folder (for processes without it)."""
        layer = module.classifier_layer
        self._classifier = (layer.weight.detach().numpy().astype(np.float32),
                            layer.bias.detach().numpy().astype(np.float32))
        cached = self._classifier_path(weights)
        if not cached.is_file():
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.stem}.{os.getpid()}.part.npz")
            np.savez(partial, weight=self._classifier[0], bias=self._classifier[1])
            partial.replace(cached)
        return self._classifier

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """ImageNet probabilities ``[N, 1000]`` from pooled features ``[N, D]``: the network's last layer + softmax.

        The engine computes them this way from the features it stores, so a re-tag from stored features gives the
        same scores as tagging the image did.
        """
        weight, bias = self.classifier()
        logits = np.atleast_2d(np.asarray(features, dtype=np.float32)) @ weight.T + bias
        return softmax(logits)

    def _run_torch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        wrapped = _Uint8Input(self._module, self.spec)
        torch.set_num_threads(self.threads)
        with torch.inference_mode():
            features, logits = wrapped(torch.from_numpy(batch))
        return features.numpy(), logits.numpy()


def _uint8_wrapper_class():  # noqa: ANN202 - defined lazily so importing this module does not import torch
    import torch
    from torch import nn

    class Uint8Input(nn.Module):
        """uint8 NHWC RGB in, normalised NCHW float into the backbone: the preprocessing lives in the graph."""

        def __init__(self, module: nn.Module, spec: BackboneSpec) -> None:
            super().__init__()
            self.module = module
            self.register_buffer("mean", torch.tensor(spec.mean, dtype=torch.float32).view(1, 3, 1, 1))
            self.register_buffer("inv_std", 1.0 / torch.tensor(spec.std, dtype=torch.float32).view(1, 3, 1, 1))

        def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = (images.permute(0, 3, 1, 2).float() - self.mean) * self.inv_std
            return self.module(x)

    return Uint8Input


def _Uint8Input(module, spec: BackboneSpec):  # noqa: ANN001, ANN202, N802 - reads like the class it builds
    return _uint8_wrapper_class()(module, spec)
