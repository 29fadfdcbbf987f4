"""Folders, photos as a scan records them, features and installed models."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from photo_tagger.store import NotFoundError, PhotoFile, PhotoStatus, Store


def test_folders(store: Store) -> None:
    first = store.add_folder("/home/me/Pictures")
    assert store.add_folder("/home/me/Pictures") == first  # idempotent
    second = store.add_folder("/media/card", watched=False)
    assert [(f.path, f.watched) for f in store.folders()] == [("/home/me/Pictures", True), ("/media/card", False)]
    store.set_folder_watched(second.id, True)
    assert all(f.watched for f in store.folders())
    with pytest.raises(NotFoundError):
        store.set_folder_watched(999, True)
    with pytest.raises(NotFoundError):
        store.remove_folder(999)


def test_upsert_photos_reports_new_changed_unchanged_moved_and_returned(store: Store) -> None:
    folder = store.add_folder("/p").id
    taken = datetime(2021, 6, 1, 12, 30)
    report = store.upsert_photos(
        folder,
        [PhotoFile("/p/a.jpg", 10, 1, "aa" * 32, 40, 30, taken), PhotoFile("/p/b.jpg", 20, 2, "bb" * 32)],
    )
    a, b = report.new
    info = store.get_photo(a)
    assert (info.path, info.size, info.mtime_ns, info.width, info.date_taken) == ("/p/a.jpg", 10, 1, 40, taken)
    assert info.status == PhotoStatus.NEW and info.added_at.tzinfo is not None
    assert store.photo_index(folder) == {
        "/p/a.jpg": (a, 10, 1, PhotoStatus.NEW),
        "/p/b.jpg": (b, 20, 2, PhotoStatus.NEW),
    }

    store.set_suggestions(a, [("dog", 0.9, "tagger", None)], "v1")
    store.record_tagging(a, [("dog", 0.9, "tagger", None)], "v1")
    store.record_tagging(b, [], "v1")
    report = store.upsert_photos(folder, [PhotoFile("/p/a.jpg", 10, 1), PhotoFile("/p/b.jpg", 21, 3, "bc" * 32)])
    assert (report.unchanged, report.changed, report.new) == (1, [b], [])
    assert store.get_photo(b).status == PhotoStatus.NEW  # its tags are stale

    assert store.mark_missing(a) == 1
    assert store.photo_ids(PhotoStatus.MISSING) == [a]
    report = store.upsert_photos(folder, [PhotoFile("/p/renamed.jpg", 10, 5, "aa" * 32)])
    assert report.moved == [a]
    moved = store.get_photo(a)
    assert (moved.path, moved.status) == ("/p/renamed.jpg", PhotoStatus.TAGGED)
    assert [t.name for t in store.photo_tags(a)] == ["dog"]  # the tags moved with it

    store.mark_missing([a])
    report = store.upsert_photos(folder, [PhotoFile("/p/renamed.jpg", 10, 5)])
    assert report.returned == [a] and store.get_photo(a).status == PhotoStatus.TAGGED
    assert store.photos_by_hash("aa" * 32)[0].id == a
    assert store.photo_by_path("/p/renamed.jpg").id == a
    with pytest.raises(NotFoundError):
        store.upsert_photos(999, [])


def test_status_counts_errors_and_deletion(store: Store) -> None:
    folder = store.add_folder("/p").id
    a, b, c = store.upsert_photos(folder, [PhotoFile(f"/p/{n}.jpg", 1, 1) for n in "abc"]).new
    store.record_error(b, "truncated JPEG")
    store.record_tagging(c, [], "v1")
    assert store.status_counts() == {PhotoStatus.NEW: 1, PhotoStatus.TAGGED: 1, PhotoStatus.MISSING: 0,
                                     PhotoStatus.ERROR: 1}  # fmt: skip
    assert store.get_photo(b).error == "truncated JPEG"
    store.record_tagging(b, [], "v1")
    assert store.get_photo(b).error is None
    assert store.delete_photos([a, b]) == 2
    assert store.photo_ids() == [c]
    with pytest.raises(NotFoundError):
        store.record_error(a, "gone")


def test_features_round_trip_per_backbone_version(store: Store) -> None:
    folder = store.add_folder("/p").id
    a, b = store.upsert_photos(folder, [PhotoFile("/p/a.jpg", 1, 1), PhotoFile("/p/b.jpg", 1, 1)]).new
    vector = np.linspace(-1, 1, 1280).astype(np.float64)  # stored as float32
    store.save_features(a, "lite0@1", vector)
    store.save_features(a, "lite0@1", vector * 2)  # replaces
    store.save_features(a, "resnet50@1", np.ones(2048, dtype=np.float32))
    loaded = store.load_features([a, b], "lite0@1")
    assert list(loaded) == [a]
    assert loaded[a].dtype == np.float32 and loaded[a].shape == (1280,)
    np.testing.assert_allclose(loaded[a], vector * 2, rtol=1e-6)
    assert store.photos_with_features("resnet50@1") == [a]
    with pytest.raises(ValueError, match="NaN"):
        store.save_features(b, "lite0@1", np.array([1.0, np.nan]))
    with pytest.raises(NotFoundError):
        store.save_features(999, "lite0@1", vector)


def test_installed_models(store: Store) -> None:
    store.set_installed_model("detector", "yolox_nano@1")
    store.set_installed_model("head", "taggernet@1")
    before = store.installed_models()["head"].installed_at
    store.set_installed_model("head", "taggernet@1")  # same version: nothing changes
    assert store.installed_models()["head"].installed_at == before
    store.set_installed_model("head", "taggernet@2")
    models = store.installed_models()
    assert {name: info.version for name, info in models.items()} == {"detector": "yolox_nano@1", "head": "taggernet@2"}
