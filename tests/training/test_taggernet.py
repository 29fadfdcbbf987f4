"""The shipped head in resources/taggernet: its files, its card, and the engine using it on real photos."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from photo_tagger.pipeline.tagger import Tagger
from photo_tagger.pipeline.taggernet import CARD_FILE, HEAD_FILE, TaggerNetHead, default_head_dir
from photo_tagger.pipeline.types import Detection

REPRODUCE = "photo-tagger train --dataset flickr8k:../shared/data/flickr8k --out resources/taggernet"


@pytest.fixture(scope="module")
def head() -> TaggerNetHead:
    return TaggerNetHead.load()


@pytest.fixture(scope="module")
def tagged(tagger, photos):
    names = ["dog.jpg", "crowd.jpg", "horses.jpg", "coral_pets.jpg", "kite.jpg"]
    return {r.path.rsplit("/", 1)[-1]: r for r in tagger.tag_paths([str(photos / n) for n in names])}


def test_shipped_files_are_safetensors_and_a_card_of_a_few_megabytes(head):
    folder = default_head_dir()
    assert (folder / HEAD_FILE).stat().st_size < 8_000_000
    assert (folder / HEAD_FILE).read_bytes()[8:9] == b"{"  # safetensors: a length, then a JSON header; no pickle
    card = json.loads((folder / CARD_FILE).read_text())
    assert (folder / "MODEL_CARD.md").read_text().startswith("# TaggerNet head")
    assert card["reproduce"] == REPRODUCE
    assert card["backbone"]["name"] == "efficientnet_lite0" and card["backbone"]["version"].startswith("efficientnet")
    assert card["dataset"]["spec"] == "flickr8k:../shared/data/flickr8k" and card["dataset"]["photos"] == 7063
    assert card["vocabulary"] == head.vocabulary and len(head.vocabulary) > 50
    assert head.version == card["version"] and head.version.startswith("taggernet-")
    assert isinstance(card["mAP"], float) and card["settings"]["lr"] == 1e-3


def test_card_figures_hold_the_issues_comparisons(head):
    """The recorded test-split figures: the MLP beats logistic regression, the merge beats every part alone."""
    card = head.card
    metrics = card["metrics"]
    assert card["mAP"] > card["baseline"]["mAP"]
    assert metrics["mAP_combined"] > metrics["mAP"]
    for part in ("hierarchy", "detector"):
        figures = metrics["parts"][part]
        assert figures["combined_mAP_same_tags"] > figures["mAP"]
        assert figures["combined_mAP_same_tags"] > figures["TaggerNet_mAP_same_tags"]
        assert metrics["mAP_combined"] > figures["mAP_all_tags"]
    assert [row["config"] for row in metrics["ablation"]] == ["TaggerNet alone", "+ hierarchy", "+ detector",
                                                               "+ GloVe"]
    assert len(card["per_tag"]) == len(head.vocabulary) and metrics["weak_tags"]
    assert 0 < metrics["suggestions"]["f1"] < 1 and card["training"]["total_seconds"] > 0


def test_dog_photo_gets_dog_and_crowd_photo_gets_people(tagged):
    dog = {t.name: t for t in tagged["dog.jpg"].tags}
    assert "dog" in dog and "tagger" in dog["dog"].sources and dog["dog"].score > 0.9
    crowd = {t.name: t for t in tagged["crowd.jpg"].tags}
    assert "people" in crowd and "tagger" in crowd["people"].sources and crowd["people"].score > 0.9


def test_detector_objects_stay_as_tags_and_merge_with_the_head(tagged):
    dog = {t.name: t for t in tagged["dog.jpg"].tags}
    assert {"bicycle", "car"} <= {n for n, t in dog.items() if "detector" in t.sources}  # the union
    assert "person" in {t.name for t in tagged["kite.jpg"].tags}  # classes outside the vocabulary as before
    horses = {t.name: t for t in tagged["horses.jpg"].tags}
    assert "horse" in horses and horses["horse"].score >= 0.3  # searchable at the library's default floor


def test_model_versions_name_the_head(tagged, head):
    for result in tagged.values():
        assert result.model_versions["head"] == head.version


def test_glove_leaves_the_heads_words_alone(tagged, tagger, head):
    glove = {t.name for r in tagged.values() for t in r.tags if t.sources == ("glove",)}
    assert glove and not glove & head.words
    assert "kid" in head.words and "kid" not in {t.name for t in tagged["coral_pets.jpg"].tags}


def test_tags_for_applies_per_tag_thresholds_and_the_detector_union(head):
    features = np.zeros((1, 1280), np.float32)
    plain = head.tags_for(features)[0]
    names = [t.name for t in plain]
    assert all(t.source == "tagger" for t in plain)
    scores = head.decide(head.raw_evidence(features)).merged[0]
    assert names == [head.vocabulary[j] for j in np.argsort(-scores) if scores[j] >= head.thresholds[j]]
    everything = head.tags_for(features, min_score=0.0)[0]
    assert len(everything) == len(head.vocabulary)
    found = [[Detection("bicycle", 0.9, (0, 0, 1, 1))]]
    with_box = {(t.name, t.source) for t in head.tags_for(features, detections=found, detector_threshold=0.4)[0]}
    assert ("bicycle", "detector") in with_box
    without = {(t.name, t.source) for t in head.tags_for(features, detections=found, detector_threshold=0.95)[0]}
    assert ("bicycle", "detector") not in without


def test_missing_or_mismatched_head_switches_the_stage_off_with_a_notice(settings, tmp_path, photos):
    no_head = Tagger(settings, use_detector=False, use_glove=False, head_path=tmp_path / "none")
    assert no_head.head is None and "cannot read it" in no_head.notices[0]
    assert "TaggerNet head off" in no_head.notices[-1]
    assert "head" not in no_head.model_versions
    result = next(no_head.tag_paths([str(photos / "dog.jpg")]))
    assert "dog" in {t.name for t in result.tags}  # the hierarchy tags are still there
    folder = tmp_path / "resnet-head"
    shutil.copytree(default_head_dir(), folder)
    card = json.loads((folder / CARD_FILE).read_text())
    card["backbone"]["name"] = "resnet50"
    (folder / CARD_FILE).write_text(json.dumps(card))
    other = Tagger(replace(settings), use_detector=False, use_glove=False, head_path=folder)
    assert other.head is None and "resnet50" in other.notices[0]
