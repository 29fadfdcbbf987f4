"""Learning a personal head from a library's decisions, on real Flickr8k photos."""

from __future__ import annotations

import csv
import random
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from photo_tagger.heads import active_head_dir
from photo_tagger.learn import NothingToLearnError, learn_personal_head
from photo_tagger.pipeline.tagger import Tagger
from photo_tagger.store import TagState

WORD = "trampoline"  # not in the shipped vocabulary, nor a word GloVe may add: a tag only the user can teach
TAUGHT = 10
OTHERS = 200


def flickr8k_photos(shared: Path, word: str) -> tuple[list[Path], list[Path]]:
    """Photos at least three of five captions call ``word``, and a fixed sample of photos no caption does."""
    root = shared / "data" / "flickr8k"
    captions = defaultdict(list)
    with open(root / "captions.csv", newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            captions[row["image"]].append(row["caption"].lower())
    pattern = re.compile(rf"\b{word}s?\b")
    named = {image: sum(bool(pattern.search(c)) for c in texts) for image, texts in captions.items()}
    positives = sorted(image for image, count in named.items() if count >= 3)
    never = sorted(image for image, count in named.items() if count == 0)
    others = random.Random(8).sample(never, OTHERS)
    return [root / "images" / p for p in positives], [root / "images" / p for p in others]


@pytest.fixture()
def flickr_library(library, shared: Path, tmp_path: Path, tagger):
    positives, others = flickr8k_photos(shared, WORD)
    assert len(positives) >= 2 * TAUGHT
    folder = tmp_path / "flickr"
    folder.mkdir()
    for photo in positives + others:
        shutil.copy(photo, folder / photo.name)
    library.add_folder(folder)
    library.worker(tagger=tagger).run(wait=True)
    return library, [folder / p.name for p in positives], [folder / p.name for p in others]


def suggested_on(library, tag: str) -> set[str]:
    found = set()
    for photo_id in library.store.photo_ids():
        if any(t.name == tag and t.state == TagState.SUGGESTED for t in library.store.photo_tags(photo_id)):
            found.add(library.store.get_photo(photo_id).path)
    return found


def test_a_custom_tag_taught_from_ten_photos_is_suggested_on_others(flickr_library, library_settings) -> None:
    library, positives, others = flickr_library
    taught, unseen = positives[:TAUGHT], positives[TAUGHT:]
    library.decide("add", WORD, taught)
    assert not suggested_on(library, WORD)

    result = learn_personal_head(library.store, library_settings)
    (report,) = [r for r in result.reports if r.tag == WORD]
    assert report.used and report.kind == "custom" and report.positives == TAUGHT
    assert report.figures["ap"] > 3 * report.figures["base_rate"]  # cross-validated on held-out photos
    assert active_head_dir(library_settings) == result.folder and result.version
    personal = Tagger(library_settings)
    assert personal.head.version == result.version and WORD in personal.head.vocabulary

    diff = library.retag(apply=True, tagger=personal)
    assert diff.tags[WORD].gained > 0 and diff.kept_decisions >= TAUGHT  # the taught photos keep the user's tag
    suggested = suggested_on(library, WORD)
    assert not suggested & {str(p) for p in taught}
    right = suggested & {str(p) for p in unseen}
    base_rate = len(unseen) / (len(unseen) + len(others))
    precision = len(right) / len(suggested)
    assert len(right) >= 3 and precision >= max(0.3, 4 * base_rate), (len(right), len(suggested), base_rate)
    assert all(t.state == TagState.ACCEPTED for p in taught
               for t in library.store.photo_tags(library.photo(p).id) if t.name == WORD)


def test_suggestions_alone_teach_nothing(library_settings, photos: Path, tmp_path: Path, tagger) -> None:
    from dataclasses import replace

    from photo_tagger.library import Library

    settings = replace(library_settings, import_keywords=False)  # no keywords from the files: no decisions at all
    folder = tmp_path / "few"
    folder.mkdir()
    for name in ("dog.jpg", "horses.jpg", "giraffe.jpg"):
        shutil.copy(photos / name, folder / name)
    with Library.open(settings) as library:
        library.add_folder(folder)
        library.worker(tagger=tagger).run(wait=True)
        assert library.store.tagged_photo_count() == 3 and not library.store.decided_tags()
        assert suggested_on(library, "dog")  # plenty of suggestions, none of them a label
        with pytest.raises(NothingToLearnError):
            learn_personal_head(library.store, settings)
    assert active_head_dir(settings) is None


def test_only_names_the_user_typed_and_no_stage_makes_become_tags_of_their_own(shared: Path) -> None:
    import numpy as np

    from photo_tagger.pipeline.taggernet import TaggerNetHead
    from photo_tagger.training.personal import Labels, PersonalTrainer

    rows = 40
    labels = Labels()
    for row in range(10):
        labels.add(row, "pet", True)  # an accepted hierarchy suggestion: the hierarchy keeps making it
        labels.add(row + 10, "rex", True, by_user=True)  # typed by the user: a tag to learn
        labels.add(row + 20, "fish", True, by_user=True)  # typed, but the hierarchy makes "fish" itself
        labels.add(row + 30, "dog", True, by_user=True)  # already a tag of the head
    features = np.random.default_rng(0).random((rows, 1280), dtype=np.float32)
    trainer = PersonalTrainer(TaggerNetHead.load(), features, list(range(1, rows + 1)), labels,
                              reserved=frozenset({"pet", "fish"}))
    assert trainer.custom_tags() == ["rex"]


def test_figures_count_each_sampled_photo_for_the_photos_it_stands_for() -> None:
    import numpy as np

    from photo_tagger.training.personal import weighted_figures

    p, y = np.array([0.9, 0.8, 0.3]), np.array([1.0, 0.0, 1.0])
    threshold, precision, recall, ap = weighted_figures(p, y, np.array([1.0, 10.0, 1.0]))
    assert threshold == pytest.approx(0.85) and (precision, recall) == (1.0, 0.5)
    assert ap == pytest.approx((1 + 2 / 12) / 2)  # the negative at 0.8 stands for ten photos
    assert weighted_figures(p, y, np.ones(3))[3] == pytest.approx((1 + 2 / 3) / 2)
