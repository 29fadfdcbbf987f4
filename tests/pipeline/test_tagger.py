"""The whole engine on real photos with real weights: TaggerNet stage + detector + GloVe, merged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from photo_tagger.pipeline.tagger import Tagger, merge_tags
from photo_tagger.pipeline.types import Tag


def _by_path(tagger, paths):
    return {r.path: r for r in tagger.tag_paths([str(p) for p in paths])}


@pytest.fixture(scope="module")
def results(tagger, photos):
    names = ["dog.jpg", "horses.jpg", "giraffe.jpg", "kite.jpg", "coral_pets.jpg", "coral_grace_hopper.bmp"]
    return {path.split("/")[-1]: r for path, r in _by_path(tagger, [photos / n for n in names]).items()}


def _tags(result, source=None):
    return {t.name for t in result.tags if source is None or source in t.sources}


def test_dog_photo_gets_dog_bicycle_car_from_detector_and_dog_from_tagger(results):
    dog = results["dog.jpg"]
    assert dog.error is None
    assert {"dog", "bicycle", "car"} <= _tags(dog, "detector")
    assert "dog" in _tags(dog, "tagger")
    labels = {d.label for d in dog.detections}
    assert {"dog", "bicycle", "car"} <= labels
    for detection in dog.detections:
        x0, y0, x1, y1 = detection.box
        assert 0 <= x0 < x1 <= dog.width and 0 <= y0 < y1 <= dog.height


def test_horses_and_giraffe(results):
    assert "horse" in _tags(results["horses.jpg"])
    assert {"giraffe", "zebra"} <= _tags(results["giraffe.jpg"], "detector")


def test_glove_tags_appear_with_parents_from_the_tagger_stage(results):
    for result in results.values():
        for tag in result.tags:
            assert 0.0 <= tag.score <= 1.0
            if tag.source == "glove":
                assert tag.parent and tag.parent != tag.name
                assert tag.parent in _tags(result, "tagger")
    assert any(t.source == "glove" for r in results.values() for t in r.tags)


def test_every_result_records_the_model_versions(results, tagger):
    for result in results.values():
        parts = {"backbone", "head", "vocabulary", "thresholds", "tagger", "detector", "glove"}
        assert set(result.model_versions) == parts
        assert result.model_versions == tagger.model_versions


def test_tags_are_merged_by_name_keeping_best_score_and_all_sources():
    merged = merge_tags([
        Tag("dog", 0.7, "tagger"), Tag("dog", 0.9, "detector"), Tag("puppy", 0.5, "glove", parent="dog"),
        Tag("puppy", 0.3, "tagger"),
    ])
    by_name = {t.name: t for t in merged}
    assert by_name["dog"].score == 0.9 and by_name["dog"].source == "detector"
    assert by_name["dog"].sources == ("tagger", "detector")
    assert by_name["puppy"].parent == "dog" and by_name["puppy"].sources == ("tagger", "glove")
    assert [t.name for t in merged] == ["dog", "puppy"]


def test_a_bad_photo_carries_its_error_and_the_stream_goes_on(tagger, photos, tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    paths = [photos / "dog.jpg", empty, tmp_path / "missing.jpg", text, photos / "horses.jpg"]
    results = list(tagger.tag_paths([str(p) for p in paths]))
    assert [r.path for r in results] == [str(p) for p in paths]
    assert results[0].error is None and results[4].error is None
    assert "empty" in results[1].error
    assert "not found" in results[2].error
    assert "not an image" in results[3].error
    assert results[1].tags == [] and results[1].detections == []


def test_min_score_override_lists_many_more_tags(tagger, settings, photos):
    low = Tagger(settings.with_min_score(0.01))
    low_result = next(low.tag_paths([str(photos / "dog.jpg")]))
    default_result = next(tagger.tag_paths([str(photos / "dog.jpg")]))
    assert len(low_result.tags) > 2 * len(default_result.tags)
    assert min(t.score for t in low_result.tags) >= 0.01


def test_without_the_detector_file_the_stage_is_off_with_one_notice(settings, tmp_path, photos):
    tagger = Tagger(replace(settings, models_dir=tmp_path / "no-models"))
    assert tagger.detector is None
    assert len(tagger.notices) == 1 and "object detector off" in tagger.notices[0]
    assert "photo-tagger models fetch" in tagger.notices[0]
    result = next(tagger.tag_paths([str(photos / "dog.jpg")]))
    assert result.error is None and result.detections == []
    assert "dog" in _tags(result, "tagger")
    assert "detector" not in result.model_versions


def test_per_source_thresholds_apply(settings, photos):
    strict = replace(settings, thresholds={"tagger": 0.99, "detector": 0.99, "glove": 0.99})
    result = next(Tagger(strict).tag_paths([str(photos / "dog.jpg")]))
    assert all(t.score >= 0.99 for t in result.tags)


def test_features_are_kept_when_asked(tagger, photos):
    result = next(tagger.tag_paths([str(photos / "dog.jpg")], keep_features=True))
    assert result.features is not None and result.features.shape == (1280,)


def test_glove_never_adds_a_word_the_visual_models_judge_themselves(results, tagger):
    """"cat" next to "dog" is the classifier's and detector's call, not word statistics'."""
    visual = set(tagger.hierarchy.tag_names) | set(tagger.detector.class_names)
    glove_only = {t.name for r in results.values() for t in r.tags if t.sources == ("glove",)}
    assert glove_only and not glove_only & visual
    assert "cat" not in _tags(results["dog.jpg"])
