"""``photo-tagger train`` and ``photo-tagger eval`` end to end on a Flickr8k subset (real backbone, detector, GloVe)."""

from __future__ import annotations

import json

import pytest

from photo_tagger.cli import main
from tests.training.conftest import SUBSET


@pytest.fixture(scope="module")
def env(settings):
    patch = pytest.MonkeyPatch()
    for name, value in (("CACHE_DIR", settings.cache_dir), ("DATA_DIR", settings.data_dir),
                        ("MODELS_DIR", settings.models_dir), ("OFFLINE", "1")):
        patch.setenv(f"PHOTO_TAGGER_{name}", str(value))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def trained(env, flickr8k, tmp_path_factory, subset_features):
    out = tmp_path_factory.mktemp("head")
    code = main(["train", "--dataset", f"flickr8k:{flickr8k}", "--limit", str(SUBSET), "--min-images", "8",
                 "--epochs", "6", "--views", "centre,flip", "--hidden", "128", "--no-progress", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_weights_vocabulary_backbone_settings_and_metrics(trained, flickr8k):
    from safetensors.numpy import load_file

    card = json.loads((trained / "taggernet.json").read_text())
    weights = load_file(str(trained / "head.safetensors"))
    assert weights["layers.0.weight"].shape == (128, 1280)
    assert weights["layers.1.weight"].shape[0] == len(card["vocabulary"]) > 3
    assert card["backbone"]["name"] == "efficientnet_lite0" and card["backbone"]["version"]
    assert card["settings"]["max_epochs"] == 6 and card["training"]["epochs_run"] <= 6
    assert card["settings"]["views"] == ["centre", "flip"] and card["settings"]["lr"] == 1e-3
    assert card["dataset"]["photos"] == SUBSET and card["dataset"]["limit"] == SUBSET
    assert 0.0 <= card["mAP"] <= 1.0 and card["baseline"]["mAP"] > 0
    # a tag one caption names is unknown: left out of the loss and of AP, and mAP is reported both ways
    assert card["dataset"]["unknown_single"] is True and card["settings"]["monitor"] == "top_k"
    assert card["metrics"]["unknown_pairs"] > 0 and 0.0 <= card["metrics"]["mAP_all_pairs"] <= 1.0
    assert card["baseline"]["mAP_all_pairs"] > 0
    assert card["reproduce"] == (f"photo-tagger train --dataset flickr8k:{flickr8k} --epochs 6 --limit {SUBSET} "
                                 f"--min-images 8 --hidden 128 --views centre,flip --out {trained}")
    assert len(card["thresholds"]) == len(card["vocabulary"]) and set(card["calibration"]) >= {"head", "hierarchy"}
    text = (trained / "MODEL_CARD.md").read_text()
    assert "## Ablation" in text and "| + GloVe |" in text and card["version"] in text


def test_eval_prints_metrics_parts_ablation_and_per_tag_table(trained, flickr8k, capsys):
    capsys.readouterr()
    code = main(["eval", "--dataset", f"flickr8k:{flickr8k}", "--limit", str(SUBSET), "--min-images", "8",
                 "--model", str(trained), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    for expected in ("mAP  TaggerNet", "top-1", "at 3: precision", "suggestions (per-tag thresholds)",
                     "each part alone", "TaggerNet alone", "+ hierarchy", "+ detector", "+ GloVe",
                     "weak tags", "positives", "unknown (photo, tag) pairs as negatives"):
        assert expected in out
    card = json.loads((trained / "taggernet.json").read_text())
    assert f"{card['mAP']:.3f}" in out  # the same held-out photos as training measured


def test_eval_json(trained, flickr8k, capsys):
    capsys.readouterr()
    assert main(["eval", "--dataset", f"flickr8k:{flickr8k}", "--limit", str(SUBSET), "--min-images", "8",
                 "--model", str(trained), "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"mAP", "mAP_combined", "ablation", "parts", "top_k_accuracy"} <= set(report["metrics"])
    assert len(report["per_tag"]) == len(json.loads((trained / "taggernet.json").read_text())["vocabulary"])


@pytest.mark.parametrize("args", [
    ["train", "--dataset", "nowhere", "--out", "x"],
    ["train", "--dataset", "folders:/no/such/folder", "--out", "x"],
    ["eval", "--dataset", "csv:/no/such.csv", "--model", "/no/such/head"],
])
def test_bad_arguments_are_usage_errors(env, args, capsys):
    assert main(args) == 2
    assert "error" in capsys.readouterr().err
