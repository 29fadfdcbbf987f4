"""Dataset loaders (captions, MIRFLICKR-25k, folder per tag, CSV), specs and splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photo_tagger.training.dataset import LabelledImages
from photo_tagger.training.loaders import DatasetError, load_captions, load_csv, load_dataset, load_folders, parse_spec
from photo_tagger.training.mirflickr import load_mirflickr
from photo_tagger.training.splits import split_dataset


def _photo(path: Path, colour=(200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), colour).save(path)
    return path


def test_flickr8k_loads_every_photo_with_concept_tags(flickr8k):
    dataset = load_dataset(f"flickr8k:{flickr8k}")
    assert len(dataset) == 7063
    targets = dataset.targets()
    assert targets.sum(axis=0).min() >= 20  # the vocabulary keeps tags with at least 20 photos
    assert {"people", "dog", "beach", "snow", "bicycle", "man", "woman", "child"} <= set(dataset.vocabulary)
    assert not {"shirt", "stand", "white", "front"} & set(dataset.vocabulary)
    first = dataset.relative(0)
    assert first == "images/1000268201_693b08cb0e.jpg"  # "A child in a pink dress is climbing up a set of stairs"
    assert {"child", "girl", "people", "climbing"} <= dataset.labels[0]
    assert {"stairs", "climb"} <= dataset.open_labels[0]  # open labels keep every agreed word too


def test_flickr8k_word_vocabulary_and_limit(flickr8k):
    words = load_captions(flickr8k, limit=300, min_images=10, tags="words")
    assert len(words) == 300
    assert {"dog", "run", "grass"} <= set(words.vocabulary)
    with pytest.raises(DatasetError):
        load_captions(flickr8k, tags="nouns")


def test_captions_layout_built_here_counts_a_tag_only_when_two_captions_name_it(tmp_path):
    rows = ["image,caption"]
    for i in range(4):
        _photo(tmp_path / "images" / f"p{i}.jpg")
        rows += [f"p{i}.jpg,A dog runs on the beach .", f"p{i}.jpg,A puppy plays .", f"p{i}.jpg,A cat sleeps ."]
    rows.append("missing.jpg,A dog .")  # captions of a photo that is not there are ignored
    (tmp_path / "captions.csv").write_text("\n".join(rows) + "\n")
    dataset = load_captions(tmp_path, min_images=3)
    assert len(dataset) == 4
    assert set(dataset.vocabulary) == {"animal", "dog"}  # cat, beach: one caption each; puppy: once
    assert dataset.labels[0] == {"animal", "dog"}
    assert "cat" not in dataset.open_labels[0] and "beach" not in dataset.open_labels[0]


def test_a_tag_one_caption_names_is_unknown_not_negative(tmp_path):
    rows = ["image,caption"]
    for i in range(4):
        _photo(tmp_path / "images" / f"p{i}.jpg")
        rows += [f"p{i}.jpg,A dog runs on the beach .", f"p{i}.jpg,A dog plays ."]
        rows += [f"p{i}.jpg,A cat sleeps .", f"p{i}.jpg,A cat on the sand ."] if i < 2 else [f"p{i}.jpg,A cat ."]
    (tmp_path / "captions.csv").write_text("\n".join(rows) + "\n")
    dataset = load_captions(tmp_path, min_images=2)
    assert set(dataset.vocabulary) == {"animal", "cat", "dog"}
    assert dataset.unknown[0] == frozenset() and dataset.unknown[3] == {"cat"}  # beach: not in the vocabulary
    known = dataset.known()
    assert known[:, dataset.vocabulary.index("cat")].tolist() == [True, True, False, False]
    assert dataset.subset([3, 0]).known()[:, dataset.vocabulary.index("cat")].tolist() == [False, True]
    strict = load_captions(tmp_path, min_images=2, unknown_single=False)
    assert strict.known().all() and strict.labels == dataset.labels


def _mirflickr(root: Path) -> Path:
    images = root / "mirflickr"
    for n in range(1, 8):
        _photo(images / f"im{n}.jpg", (n * 30, 0, 0))
    notes = root / "mirflickr25k_annotations_v080"
    notes.mkdir()
    (notes / "dog.txt").write_text("1\n2\n3\n")
    (notes / "dog_r1.txt").write_text("1\n")
    (notes / "plant_life.txt").write_text("4\n5\n")
    (notes / "plant_life_r1.txt").write_text("4\n")
    (notes / "clouds.txt").write_text("6\n")
    (notes / "README.txt").write_text("annotations\n")
    tags = images / "meta" / "tags"
    tags.mkdir(parents=True)
    (tags / "tags1.txt").write_text("puppies\nnikon\nthe\n")
    (tags / "tags2.txt").write_text("puppy\nnikon\n")
    (tags / "tags3.txt").write_text("nikon\n")
    return root


def test_mirflickr_official_layout(tmp_path):
    root = _mirflickr(tmp_path)
    dataset = load_mirflickr(root, min_images=2)
    assert [p.name for p in dataset.paths] == [f"im{n}.jpg" for n in range(1, 8)]  # by number, not as text
    assert set(dataset.vocabulary) == {"dog", "plant life", "cloud", "puppy", "nikon"}  # concepts kept though rare
    by_name = {p.name: labels for p, labels in zip(dataset.paths, dataset.labels, strict=True)}
    assert by_name["im1.jpg"] == {"dog", "puppy", "nikon"}
    assert by_name["im4.jpg"] == {"plant life"} and by_name["im6.jpg"] == {"cloud"} and by_name["im7.jpg"] == set()
    relevant = load_mirflickr(root, min_images=2, relevant_only=True, user_tags=False)
    assert [sorted(t) for t in relevant.labels[:5]] == [["dog"], [], [], ["plant life"], []]
    assert len(load_dataset(f"mirflickr:{root}", limit=3)) == 3


def test_mirflickr_without_annotations_says_what_is_missing(tmp_path):
    _photo(tmp_path / "im1.jpg")
    with pytest.raises(DatasetError, match="annotation"):
        load_mirflickr(tmp_path)


def test_folder_per_tag(tmp_path):
    for name in ("dogs", "Beach", "golden_retriever"):
        for i in range(2):
            _photo(tmp_path / name / f"{i}.jpg")
    (tmp_path / "dogs" / "notes.txt").write_text("not a photo")
    dataset = load_dataset(f"folders:{tmp_path}")
    assert len(dataset) == 6
    assert set(dataset.vocabulary) == {"dog", "beach", "golden retriever"}
    assert {next(iter(t)) for t in dataset.labels} == {"dog", "beach", "golden retriever"}


def test_csv_with_header_and_relative_paths(tmp_path):
    _photo(tmp_path / "a" / "one.jpg")
    _photo(tmp_path / "two.jpg")
    table = tmp_path / "labels.csv"
    table.write_text("path,tags\na/one.jpg,dogs;Beach\ntwo.jpg,dog\n")
    dataset = load_dataset(f"csv:{table}")
    assert [dataset.relative(i) for i in range(2)] == ["a/one.jpg", "two.jpg"]
    assert dataset.labels == (frozenset({"dog", "beach"}), frozenset({"dog"}))
    assert dataset.targets().tolist() == [[1.0, 1.0], [0.0, 1.0]]  # vocabulary sorted: beach, dog
    table.write_text("a/one.jpg,dog\nmissing.jpg,cat\n")
    with pytest.raises(DatasetError, match="missing"):
        load_csv(table)
    table.write_text("a/one.jpg\n")
    with pytest.raises(DatasetError, match="path,tag1;tag2"):
        load_csv(table)


@pytest.mark.parametrize("spec", ["flickr8k", "imagenet:/tmp", "csv:", "/tmp/x"])
def test_bad_specs_are_refused(spec):
    with pytest.raises(DatasetError):
        parse_spec(spec)


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folders:{tmp_path / 'nothing'}")
    with pytest.raises(DatasetError, match="no photos"):
        load_folders(tmp_path)


def _numbered(n: int) -> LabelledImages:
    root = Path("/data")
    return LabelledImages("x", root, tuple(root / f"{i}.jpg" for i in range(n)), (frozenset(),) * n, ())


def test_split_is_64_16_20_fixed_by_seed_and_stable_when_photos_are_added():
    split = split_dataset(_numbered(5000))
    sizes = np.array([len(split.train), len(split.val), len(split.test)]) / 5000
    assert np.allclose(sizes, [0.64, 0.16, 0.20], atol=0.02)
    assert not (set(split.train) & set(split.val)) and not (set(split.val) & set(split.test))
    assert len(set(split.train) | set(split.val) | set(split.test)) == 5000
    again, smaller = split_dataset(_numbered(5000)), split_dataset(_numbered(1000))
    assert np.array_equal(again.test, split.test)
    assert np.array_equal(smaller.test, split.test[split.test < 1000])  # a photo keeps its split
    other_seed = split_dataset(_numbered(5000), seed=9)
    assert not np.array_equal(other_seed.test, split.test)
