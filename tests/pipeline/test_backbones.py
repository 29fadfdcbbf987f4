"""Backbones: the real EfficientNet-Lite0 weights classify ImageNet photos; ResNet-50 runs with random weights."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
import torch

from photo_tagger.pipeline.backbones.efficientnet_lite import EfficientNetLite, same_padding
from photo_tagger.pipeline.backbones.registry import backbone_names, get_backbone_spec
from photo_tagger.pipeline.backbones.runtime import Backbone
from photo_tagger.pipeline.errors import ModelLoadError, ModelMissingError
from photo_tagger.pipeline.images import load_image


@pytest.fixture(scope="module")
def imagenet_sample(shared):
    folder = shared / "data" / "imagenet-sample"
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    return [(folder / "images" / r["filename"], int(r["class_index"])) for r in rows]


def _top1(backbone: Backbone, sample) -> float:
    crops = [backbone.prepare(load_image(path).image) for path, _ in sample]
    probs = np.concatenate([backbone.run(crops[i:i + 32])[1] for i in range(0, len(crops), 32)])
    return float((probs.argmax(1) == np.array([label for _, label in sample])).mean())


def test_registry_lists_the_backbones():
    assert {"efficientnet_lite0", "efficientnet_lite2", "resnet50"} <= set(backbone_names())
    with pytest.raises(ValueError, match="unknown backbone 'vgg'"):
        get_backbone_spec("vgg")


def test_tf_same_padding_puts_the_odd_pixel_after():
    assert same_padding(224, 3, 2) == (0, 1)
    assert same_padding(56, 5, 2) == (1, 2)
    assert same_padding(14, 5, 1) == (2, 2)


@pytest.mark.slow
def test_lite0_onnx_top1_on_imagenet_sample(settings, imagenet_sample):
    backbone = Backbone.from_settings(settings, runtime="onnx")
    top1 = _top1(backbone, imagenet_sample)
    assert top1 >= 0.65, f"EfficientNet-Lite0 top-1 {top1:.1%} on the ImageNet sample"


@pytest.mark.slow
def test_lite2_onnx_top1_on_imagenet_sample(settings, imagenet_sample):
    backbone = Backbone.from_settings(replace(settings, backbone="efficientnet_lite2"), runtime="onnx")
    assert backbone.spec.input_size == 260 and backbone.version == "efficientnet_lite2:efficientnet-lite2-9656183e"
    top1 = _top1(backbone, imagenet_sample)
    assert top1 >= 0.70, f"EfficientNet-Lite2 top-1 {top1:.1%} on the ImageNet sample"  # 92.2% when added


@pytest.mark.slow
def test_onnx_runtime_matches_eager_pytorch(settings, imagenet_sample):
    onnx, eager = Backbone.from_settings(settings, "onnx"), Backbone.from_settings(settings, "torch")
    crops = [onnx.prepare(load_image(path).image) for path, _ in imagenet_sample[:16]]
    features_a, probs_a = onnx.run(crops)
    features_b, probs_b = eager.run(crops)
    assert features_a.shape == (16, 1280) and probs_a.shape == (16, 1000)
    np.testing.assert_allclose(probs_a, probs_b, atol=1e-4)
    np.testing.assert_allclose(features_a, features_b, atol=1e-3)
    assert (probs_a.argmax(1) == probs_b.argmax(1)).all()


def test_compiled_graph_is_cached_and_rebuilt_when_damaged(settings, photos):
    crop = Backbone.from_settings(settings).prepare(load_image(photos / "dog.jpg").image)
    first = Backbone.from_settings(settings)
    first.run([crop])
    graphs = list((settings.cache_dir / "compiled").glob("efficientnet_lite0-*.onnx"))
    assert len(graphs) == 1
    graphs[0].write_bytes(b"not an onnx file")
    second = Backbone.from_settings(settings)
    _, probs = second.run([crop])
    assert probs.argmax() in range(151, 269)  # one of ImageNet's dog classes
    assert graphs[0].stat().st_size > 1_000_000


def test_prepare_gives_a_centre_crop_of_the_input_size(settings, photos):
    backbone = Backbone.from_settings(settings)
    crop = backbone.prepare(load_image(photos / "kite.jpg").image)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8


@pytest.fixture()
def random_resnet50(tmp_path):
    torch.manual_seed(0)
    from photo_tagger.pipeline.backbones.resnet import ResNet50

    path = tmp_path / "resnet50-random.pth"
    torch.save(ResNet50().net.state_dict(), path)
    return path


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_resnet50_with_random_weights_gives_features_and_logits(settings, tmp_path, photos, random_resnet50, runtime):
    local = replace(settings, backbone="resnet50", cache_dir=tmp_path / "cache")
    backbone = Backbone(get_backbone_spec("resnet50"), local, runtime, weights_path=random_resnet50)
    crops = [backbone.prepare(load_image(photos / name).image) for name in ("dog.jpg", "horses.jpg")]
    features, probs = backbone.run(crops)
    assert features.shape == (2, 2048) and probs.shape == (2, 1000)
    assert np.isfinite(features).all() and np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    assert backbone.version == "resnet50:torchvision-IMAGENET1K_V2"


def test_resnet50_without_weights_offline_names_the_file_and_folder(settings, tmp_path):
    local = replace(settings, backbone="resnet50", models_dir=tmp_path / "models", offline=True)
    backbone = Backbone.from_settings(local)
    with pytest.raises(ModelMissingError) as caught:
        backbone.load()
    message = str(caught.value)
    assert "resnet50-11ad3fa6.pth" in message and str(tmp_path / "models") in message
    assert "download.pytorch.org" in message


def test_corrupt_weights_raise_model_load_error(settings, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"\x00garbage" * 100)
    backbone = Backbone(get_backbone_spec("efficientnet_lite0"), settings, "torch", weights_path=bad)
    with pytest.raises(ModelLoadError, match="not a readable PyTorch state dict"):
        backbone.load()


def test_lite0_architecture_is_shape_and_nan_clean():
    torch.manual_seed(0)
    model = EfficientNetLite("lite0").eval()
    with torch.inference_mode():
        features, logits = model(torch.randn(2, 3, 224, 224))
    assert features.shape == (2, 1280) and logits.shape == (2, 1000)
    assert torch.isfinite(features).all() and torch.isfinite(logits).all()
