"""The ImageNet -> tag table, its build script, and the hierarchy stage that scores tags."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from photo_tagger.pipeline.hierarchy import ImageNetHierarchy
from photo_tagger.pipeline.types import Tag
from photo_tagger.resources import resources_dir

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "resources" / "make_imagenet_tags.py"
GENERATED = ("imagenet_classes.json", "imagenet_tags.json", "tag_vocabulary.txt")

GOLDEN_RETRIEVER, LABRADOR, SEASHORE, SPORTS_CAR = 207, 208, 978, 817
JARGON = {
    "placental", "chordate", "vertebrate", "mammal", "canine", "carnivore", "organism", "entity", "whole",
    "object", "physical entity", "living thing", "artifact", "instrumentality", "domestic dog",
}  # fmt: skip


@pytest.fixture(scope="module")
def hierarchy() -> ImageNetHierarchy:
    return ImageNetHierarchy.load()


def one_hot(*pairs: tuple[int, float]) -> np.ndarray:
    probs = np.zeros((1, 1000), dtype=np.float32)
    for index, p in pairs:
        probs[0, index] = p
    return probs


def scores(tags: list[Tag]) -> dict[str, float]:
    return {t.name: t.score for t in tags}


# -- the table ---------------------------------------------------------------------------------------------


def test_golden_retriever_is_a_dog_and_an_animal_without_jargon(hierarchy: ImageNetHierarchy) -> None:
    tags = hierarchy.class_tags[GOLDEN_RETRIEVER]
    assert tags[0] == "golden retriever"
    assert {"dog", "animal", "pet", "retriever"} <= set(tags)
    assert not JARGON & set(tags)


def test_scenes_and_cars_get_the_everyday_word(hierarchy: ImageNetHierarchy) -> None:
    assert {"beach", "sea"} <= set(hierarchy.class_tags[SEASHORE])
    assert {"sports car", "car", "vehicle"} <= set(hierarchy.class_tags[SPORTS_CAR])
    assert "motorcar" not in hierarchy.class_tags[SPORTS_CAR]


def test_every_class_has_plain_lowercase_tags(hierarchy: ImageNetHierarchy) -> None:
    assert hierarchy.num_classes == 1000
    for index, tags in enumerate(hierarchy.class_tags):
        assert tags, f"class {index} has no tag"
        for tag in tags:
            assert "_" not in tag and tag == tag.lower() and tag == tag.strip(), (index, tag)
    assert all(not JARGON & set(tags) for tags in hierarchy.class_tags)


def test_all_dog_breeds_are_dogs_and_pets(hierarchy: ImageNetHierarchy) -> None:
    for index in range(151, 269):  # the 118 dog breeds, Chihuahua .. Mexican hairless
        assert {"dog", "pet"} <= set(hierarchy.class_tags[index]), hierarchy.class_names[index]


def test_version_names_wordnet_and_a_content_hash(hierarchy: ImageNetHierarchy) -> None:
    assert hierarchy.version.startswith("wordnet3.0-")
    assert len(hierarchy.version) > len("wordnet3.0-")


def test_class_list_is_sorted_wnids_matching_the_labelled_sample(shared: Path) -> None:
    classes = json.loads((resources_dir() / "imagenet_classes.json").read_text(encoding="utf-8"))
    assert [c["index"] for c in classes] == list(range(1000))
    wnids = [c["wnid"] for c in classes]
    assert wnids == sorted(set(wnids)), "ImageNet-1k's class order is the sorted wnids"
    assert (wnids[0], wnids[-1]) == ("n01440764", "n15075141")  # tench, toilet tissue
    with (shared / "data" / "imagenet-sample" / "labels.csv").open(newline="") as f:
        sample = {int(row["class_index"]): row["wnid"] for row in csv.DictReader(f)}
    assert len(sample) == 309
    assert {i: wnids[i] for i in sample} == sample


# -- scoring -----------------------------------------------------------------------------------------------


def test_tag_scores_are_summed_over_classes(hierarchy: ImageNetHierarchy) -> None:
    (tags,) = hierarchy.tags_for(one_hot((GOLDEN_RETRIEVER, 0.3), (LABRADOR, 0.3)), min_score=0.1)
    got = scores(tags)
    assert got["dog"] == pytest.approx(0.6)
    assert got["animal"] == pytest.approx(0.6)
    assert got["golden retriever"] == pytest.approx(0.3)
    assert all(t.source == "tagger" and t.parent is None for t in tags)
    assert [t.score for t in tags] == sorted((t.score for t in tags), reverse=True)


def test_min_score_filters_and_scores_stay_in_range(hierarchy: ImageNetHierarchy) -> None:
    (tags,) = hierarchy.tags_for(one_hot((GOLDEN_RETRIEVER, 0.3), (LABRADOR, 0.3)), min_score=0.5)
    assert "dog" in scores(tags) and "golden retriever" not in scores(tags)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(1000, 0.05), size=8).astype(np.float32)
    all_scores = hierarchy.scores(probs)
    assert all_scores.shape == (8, len(hierarchy.tag_names))
    assert float(all_scores.min()) >= 0.0 and float(all_scores.max()) <= 1.0
    for row, tags in zip(all_scores, hierarchy.tags_for(probs, min_score=0.2), strict=True):
        assert {t.name for t in tags} == {hierarchy.tag_names[i] for i in np.flatnonzero(row >= 0.2)}


def test_scores_match_a_dense_class_by_tag_matrix(hierarchy: ImageNetHierarchy) -> None:
    column = {name: i for i, name in enumerate(hierarchy.tag_names)}
    dense = np.zeros((1000, len(column)), dtype=np.float32)
    for c, tags in enumerate(hierarchy.class_tags):
        dense[c, [column[t] for t in tags]] = 1.0
    probs = np.random.default_rng(1).dirichlet(np.ones(1000), size=32).astype(np.float32)
    np.testing.assert_allclose(hierarchy.scores(probs), np.clip(probs @ dense, 0, 1), atol=1e-6)


def test_batch_shapes(hierarchy: ImageNetHierarchy) -> None:
    single = one_hot((SEASHORE, 0.9))[0]
    assert [t.name for t in hierarchy.tags_for(single, 0.5)[0]] == [
        t.name for t in hierarchy.tags_for(single[None], 0.5)[0]
    ]
    assert hierarchy.tags_for(np.zeros((0, 1000), dtype=np.float32), 0.1) == []
    with pytest.raises(ValueError, match="1000"):
        hierarchy.tags_for(np.zeros((2, 10), dtype=np.float32), 0.1)


def test_top_classes(hierarchy: ImageNetHierarchy) -> None:
    probs = np.vstack([one_hot((SEASHORE, 0.7), (GOLDEN_RETRIEVER, 0.2)), one_hot((SPORTS_CAR, 1.0))])
    top = hierarchy.top_classes(probs, k=2)
    assert top[0] == [("seashore", pytest.approx(0.7)), ("golden retriever", pytest.approx(0.2))]
    assert top[1][0] == ("sports car", 1.0)


# -- the build ---------------------------------------------------------------------------------------------


def test_vocabulary_has_everyday_words_and_no_stop_words() -> None:
    lines = (resources_dir() / "tag_vocabulary.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#")
    words = lines[1:]
    assert words == sorted(set(words))
    assert 3_000 <= len(words) <= 8_000
    assert {"dog", "beach", "ocean", "puppy", "bicycle", "wedding", "sunset", "mountain"} <= set(words)
    assert not {"the", "and", "of", "it", "can", "will", "mammal", "entity", "artifact"} & set(words)
    assert not [w for w in words if "_" in w or w != w.lower()]


def test_rebuilding_gives_identical_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in GENERATED:
        rebuilt = (tmp_path / name).read_bytes()
        assert rebuilt == (resources_dir() / name).read_bytes(), f"{name} is stale: rerun {BUILD_SCRIPT.name}"
