"""Backbone features of a dataset: the real ONNX backbone, every view, a progress bar, and the cache."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from photo_tagger.pipeline.images import load_image
from photo_tagger.training.features import extract_features
from photo_tagger.training.loaders import load_captions


def test_features_are_the_engines_for_the_centre_crop(subset, subset_features, backbone):
    assert subset_features.centre.shape == (len(subset), 1280)
    assert subset_features.probs.shape == (len(subset), 1000)
    assert np.allclose(subset_features.probs.sum(axis=1), 1.0, atol=1e-4)
    image = load_image(subset.paths[3], min_side=320).image
    features, probs = backbone.run([backbone.prepare(image)])
    assert np.allclose(subset_features.centre[3], features[0], atol=1e-4)
    flipped, _ = backbone.run([np.ascontiguousarray(backbone.prepare(image)[:, ::-1])])
    assert np.allclose(subset_features.views["flip"][3], flipped[0], atol=1e-4)
    assert not np.allclose(subset_features.views["flip"][3], features[0], atol=1e-2)


def test_a_second_run_reads_the_cache_without_the_backbone(subset, subset_features, backbone, settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the backbone ran although the features were cached")

    monkeypatch.setattr(backbone, "run", refuse)
    again = extract_features(subset, backbone, settings.cache_dir, ("centre", "flip"), progress=False)
    assert again.key == subset_features.key
    assert np.array_equal(again.centre, subset_features.centre)
    files = sorted(p.name for p in (settings.cache_dir / "features").glob(f"*{again.key}*"))
    assert any(name.endswith("-centre.npy") for name in files) and any("probs" in name for name in files)


def test_the_cache_key_follows_the_photos_content(flickr8k, tmp_path, backbone, settings, capsys):
    root = tmp_path / "mini"
    (root / "images").mkdir(parents=True)
    lines = (flickr8k / "captions.csv").read_text().splitlines()
    names = sorted({line.split(",", 1)[0] for line in lines[1:]})[:6]
    for name in names:
        shutil.copy(flickr8k / "images" / name, root / "images" / name)
    (root / "captions.csv").write_text("\n".join([lines[0], *(line for line in lines if line.split(",")[0] in names)]))
    mini = load_captions(root, min_images=1)
    first = extract_features(mini, backbone, settings.cache_dir, ("centre",), progress=True)
    assert "features" in capsys.readouterr().err  # the progress bar, on stderr
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert extract_features(load_captions(copy, min_images=1), backbone, settings.cache_dir, ("centre",),
                            progress=False).key == first.key  # same bytes elsewhere: same features
    (root / "images" / names[0]).write_bytes((root / "images" / names[1]).read_bytes())
    changed = extract_features(load_captions(root, min_images=1), backbone, settings.cache_dir, ("centre",),
                               progress=False)
    assert changed.key != first.key
    assert np.allclose(changed.centre[0], changed.centre[1], atol=1e-5)


def test_unknown_views_are_refused(subset, backbone, settings):
    with pytest.raises(ValueError, match="unknown views"):
        extract_features(subset, backbone, settings.cache_dir, ("centre", "zoom"))
