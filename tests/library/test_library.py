"""The library end to end: real SQLite file, real photos, the real pipeline and worker."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from photo_tagger.library import LibraryError
from photo_tagger.store import JobState, PhotoStatus, QueryError, TagSource, TagState
from photo_tagger.thumbnails import thumbnail_path
from photo_tagger.worker import WorkerBusyError, WorkerLock


def _tags(library, path):
    return {t.name: t for t in library.tags_of(path)[1]}


def test_add_scan_tag_and_search(library, album, tag_all, library_settings):
    report = library.add_folder(album)
    assert (report.seen, report.new, report.queued) == (6, 6, 6)  # the hidden folder is skipped
    progress = tag_all(library)
    assert progress.done == 6 and progress.failed == 0 and progress.finished
    status = library.status()
    assert status.photos[PhotoStatus.TAGGED] == 6 and status.jobs[JobState.QUEUED] == 0
    hits = library.search("dog").hits
    assert str(album / "dog.jpg") in {h.path for h in hits}
    assert [h.path for h in library.search("giraffe zebra").hits] == [str(album / "trip" / "giraffe.jpg")]
    dog = library.photo(album / "dog.jpg")
    assert dog.width == 768 and dog.height == 576
    assert set(dog.model_versions) == {"backbone", "head", "vocabulary", "thresholds", "tagger", "detector", "glove"}
    assert thumbnail_path(library_settings.cache_dir, dog.content_hash).is_file()
    tags = _tags(library, album / "dog.jpg")
    assert tags["bicycle"].source == TagSource.DETECTOR and tags["bicycle"].state == TagState.SUGGESTED
    assert any(t.source == TagSource.GLOVE and t.parent for t in tags.values())
    installed = library.store.installed_models()
    assert {name: info.version for name, info in installed.items()} == dog.model_versions
    # features are stored for re-tagging without the CNN
    assert len(library.store.photos_with_features(dog.model_versions["backbone"])) == 6


def test_rescan_is_incremental_and_sees_changes(library, album, tag_all):
    library.add_folder(album)
    tag_all(library)
    again = library.scan()[0]
    assert (again.unchanged, again.queued) == (6, 0)
    shutil.copy(album / "horses.jpg", album / "dog.jpg")  # the file's content changes
    changed = library.scan()[0]
    assert changed.changed == 1 and changed.queued == 1
    tag_all(library)
    assert "horse" in _tags(library, album / "dog.jpg")


def test_moved_photo_keeps_its_tags_and_decisions(library, album, tag_all):
    library.add_folder(album)
    tag_all(library)
    library.decide("accept", "dog", [album / "dog.jpg"])
    library.decide("add", "rex", [album / "dog.jpg"])
    (album / "pets").mkdir()
    (album / "dog.jpg").rename(album / "pets" / "rex.jpg")
    report = library.scan()[0]
    assert report.moved == 1 and report.missing == 1 and report.queued == 0
    tags = _tags(library, album / "pets" / "rex.jpg")
    assert tags["dog"].state == TagState.ACCEPTED and tags["rex"].source == TagSource.USER
    with pytest.raises(LibraryError, match="not in the library"):
        library.photo(album / "dog.jpg")


def test_deleted_photo_is_missing_with_tags_until_purged(library, album, tag_all):
    library.add_folder(album)
    tag_all(library)
    (album / "kite.jpg").unlink()
    assert library.scan()[0].missing == 1
    kite = library.photo(album / "kite.jpg")
    assert kite.status == PhotoStatus.MISSING and _tags(library, album / "kite.jpg")
    assert library.purge_missing() == 1
    with pytest.raises(LibraryError):
        library.photo(album / "kite.jpg")


def test_an_unplugged_or_unmounted_folder_is_not_mass_deleted(library, album, tag_all, tmp_path):
    library.add_folder(album)
    tag_all(library)
    album.rename(tmp_path / "unplugged")
    report = library.scan()[0]
    assert report.unavailable and "not found" in report.unavailable and report.missing == 0
    album.mkdir()  # an empty mount point
    report = library.scan()[0]
    assert report.unavailable and "empty" in report.unavailable
    assert library.status().photos[PhotoStatus.MISSING] == 0
    album.rmdir()
    (tmp_path / "unplugged").rename(album)
    report = library.scan()[0]
    assert report.unavailable is None and report.unchanged == 6 and report.queued == 0


def test_user_decisions_survive_retagging(library, album, tag_all):
    library.add_folder(album)
    tag_all(library)
    dog = album / "dog.jpg"
    suggested = sorted(t.name for t in library.tags_of(dog)[1] if t.state == TagState.SUGGESTED)
    rejected, accepted = suggested[0], suggested[1]
    library.decide("reject", rejected, [dog])
    library.decide("accept", accepted, [dog])
    library.decide("add", "grandma's garden", [dog])
    library.decide("remove", suggested[2], [dog])
    library.store.enqueue("tag", [library.photo(dog).id])  # a re-tag of the photo
    tag_all(library)
    tags = _tags(library, dog)
    assert tags[rejected].state == TagState.REJECTED
    assert tags[accepted].state == TagState.ACCEPTED
    assert tags["grandma's garden"].source == TagSource.USER
    assert library.search(f'"{rejected}"').total == 0 or str(dog) not in {
        h.path for h in library.search(f'"{rejected}"', limit=500).hits}


def test_bulk_decisions_by_query(library, album, tag_all):
    library.add_folder(album)
    tag_all(library)
    dogs = library.search("dog").total
    assert dogs >= 2
    assert library.decide("accept", "dog", query="dog") == dogs
    assert library.search("dog state:accepted").total == dogs
    assert library.decide("reject", "person", query="person") >= 1
    assert library.search("person").total == 0


def test_a_broken_photo_is_recorded_with_its_reason_and_the_rest_is_tagged(library, album, tag_all):
    (album / "broken.jpg").write_bytes((album / "dog.jpg").read_bytes()[:3000])
    (album / "empty.png").write_bytes(b"")
    library.add_folder(album)
    progress = tag_all(library)
    assert progress.done == 8 and progress.failed == 2  # done counts every photo handled
    errors = dict(library.status().errors)
    assert "truncated" in errors[str(album / "broken.jpg")]
    assert "empty" in errors[str(album / "empty.png")]


def test_folder_rules(library, album):
    library.add_folder(album)
    with pytest.raises(LibraryError, match="inside"):
        library.add_folder(album / "trip")
    with pytest.raises(LibraryError, match="not a folder"):
        library.add_folder(album / "dog.jpg")
    assert library.remove_folder(album) == 6
    assert library.folders() == []


def test_only_one_worker_per_library(library, library_settings, album):
    lock = WorkerLock(library.store.path)
    lock.acquire()
    try:
        with pytest.raises(WorkerBusyError, match="another photo-tagger process"):
            library.worker().run(wait=True)
    finally:
        lock.release()


@pytest.mark.parametrize("query", ['"unclosed', "dog OR", "date:2021-13", "source:bogus", "(dog", "NOT"])
def test_bad_queries_raise_query_error(library, query):
    with pytest.raises(QueryError):
        library.search(query)


def test_library_file_is_sqlite_in_wal_mode(library, library_settings):
    connection = sqlite3.connect(library_settings.library_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
