"""Machine suggestions and user decisions: a model never overwrites a user."""

from __future__ import annotations

import math

import pytest

from photo_tagger.pipeline.types import MergedTag, Tag
from photo_tagger.store import NotFoundError, Store, TagSource, TagState

from .conftest import add_photos


def tags_of(store: Store, photo_id: int) -> dict[str, tuple[str, str, float]]:
    return {t.name: (t.state.value, t.source.value, round(t.score, 3)) for t in store.photo_tags(photo_id)}


@pytest.fixture
def photo(store: Store) -> int:
    return add_photos(store, "/p", "a.jpg")[0]


def test_suggestions_are_stored_normalised_with_source_score_and_version(store: Store, photo: int) -> None:
    change = store.set_suggestions(
        photo, [("Dog", 0.9, "tagger", None), (" Sea  Shore ", 0.4, "glove", "Beach")], "head@2"
    )
    assert change.added == ["dog", "sea shore"] and not change.removed
    infos = {t.name: t for t in store.photo_tags(photo)}
    assert infos["dog"].source == TagSource.TAGGER and infos["dog"].state == TagState.SUGGESTED
    assert infos["sea shore"].parent == "beach"
    assert infos["dog"].model_version == "head@2"
    assert store.tag_names("s") == ["sea shore"]


def test_pipeline_values_are_accepted_and_duplicates_keep_the_best_score(store: Store, photo: int) -> None:
    store.set_suggestions(
        photo,
        [
            Tag("dog", 0.6, "tagger"),
            MergedTag("dog", 0.8, "detector", ("detector", "tagger")),
            Tag("DOG", 0.7, "glove"),
        ],
        "v1",
    )
    assert tags_of(store, photo) == {"dog": ("suggested", "detector", 0.8)}


def test_replacing_suggestions_keeps_every_user_decision(store: Store, photo: int) -> None:
    store.set_suggestions(
        photo,
        [("dog", 0.9, "tagger", None), ("cat", 0.8, "tagger", None), ("grass", 0.4, "detector", None),
         ("sky", 0.5, "tagger", None)],
        "v1",
    )  # fmt: skip
    store.accept(photo, "dog")
    store.reject(photo, "cat")
    store.add_user_tag(photo, "birthday")

    change = store.set_suggestions(
        photo,
        [("dog", 0.3, "tagger", None), ("cat", 0.99, "detector", None), ("grass", 0.6, "detector", None),
         ("tree", 0.5, "tagger", None), ("birthday", 0.7, "glove", None)],
        "v2",
    )  # fmt: skip
    assert change.added == ["tree"]
    assert change.removed == ["sky"]
    assert change.rescored == ["grass"]
    assert change.kept_decisions == ["birthday", "cat", "dog"]
    assert tags_of(store, photo) == {
        "dog": ("accepted", "tagger", 0.9),  # the accepted row is untouched, score and all
        "birthday": ("accepted", "user", 1.0),  # the user's own tag is untouched
        "grass": ("suggested", "detector", 0.6),
        "tree": ("suggested", "tagger", 0.5),
        "cat": ("rejected", "tagger", 0.8),  # rejected stays rejected, and is not suggested again
    }
    versions = {t.name: t.model_version for t in store.photo_tags(photo)}
    assert versions["grass"] == versions["tree"] == "v2" and versions["dog"] == "v1"


def test_a_rejected_tag_never_comes_back(store: Store, photo: int) -> None:
    store.set_suggestions(photo, [("cat", 0.8, "tagger", None)], "v1")
    store.reject(photo, "cat")
    for version in ("v2", "v3"):
        store.set_suggestions(photo, [("cat", 0.95, "tagger", None)], version)
        store.set_suggestions(photo, [], version)  # not even removing and re-adding revives it
    assert tags_of(store, photo) == {"cat": ("rejected", "tagger", 0.8)}
    assert store.search("cat").total == 0


def test_empty_suggestions_remove_only_machine_suggestions(store: Store, photo: int) -> None:
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None), ("cat", 0.8, "tagger", None)], "v1")
    store.accept(photo, "dog")
    change = store.set_suggestions(photo, [], "v2")
    assert change.removed == ["cat"] and change.changed
    assert tags_of(store, photo) == {"dog": ("accepted", "tagger", 0.9)}
    assert not store.set_suggestions(photo, [], "v2").changed


def test_accept_and_reject_create_user_rows_where_no_model_suggested(store: Store, photo: int) -> None:
    assert store.accept(photo, "Lighthouse") == 1
    assert store.reject(photo, "selfie") == 1
    assert tags_of(store, photo) == {"lighthouse": ("accepted", "user", 1.0), "selfie": ("rejected", "user", 0.0)}
    store.set_suggestions(photo, [("selfie", 0.9, "tagger", None)], "v1")
    assert tags_of(store, photo)["selfie"] == ("rejected", "user", 0.0)


def test_decisions_can_change_and_record_when(store: Store, photo: int) -> None:
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None)], "v1")
    assert store.photo_tags(photo)[0].decided_at is None
    assert store.reject(photo, "dog") == 1
    assert store.reject(photo, "dog") == 0  # already rejected: nothing changed
    assert store.accept(photo, "dog") == 1  # the user changed their mind
    info = store.photo_tags(photo)[0]
    assert (info.state, info.source) == (TagState.ACCEPTED, TagSource.TAGGER)
    assert info.decided_at is not None and info.decided_at.tzinfo is not None


def test_add_user_tag_on_a_suggestion_accepts_it(store: Store, photo: int) -> None:
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None)], "v1")
    assert store.add_user_tag(photo, "DOG") == 1
    assert tags_of(store, photo) == {"dog": ("accepted", "tagger", 0.9)}


def test_remove_tag_forgets_any_row(store: Store, photo: int) -> None:
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None), ("cat", 0.5, "tagger", None)], "v1")
    store.add_user_tag(photo, "birthday")
    store.reject(photo, "cat")
    assert store.remove_tag(photo, "birthday") == 1
    assert store.remove_tag(photo, "cat") == 1  # a decision undone: the model may suggest it again
    assert store.remove_tag(photo, "never heard of it") == 0
    assert set(tags_of(store, photo)) == {"dog"}
    store.set_suggestions(photo, [("cat", 0.5, "tagger", None)], "v2")
    assert tags_of(store, photo)["cat"] == ("suggested", "tagger", 0.5)


def test_decisions_on_many_photos_at_once(store: Store) -> None:
    ids = add_photos(store, "/p", *(f"{i}.jpg" for i in range(1200)))  # more than one IN-list chunk
    for photo in ids[:600]:
        store.set_suggestions(photo, [("dog", 0.9, "tagger", None)], "v1")
    assert store.accept(ids, "dog") == 1200
    assert store.search("dog source:user").total == 600
    assert store.search("dog").total == 1200
    assert store.reject(ids[:10], "dog") == 10
    assert store.search("dog").total == 1190


def test_unknown_photos_and_bad_values_are_refused(store: Store, photo: int) -> None:
    with pytest.raises(NotFoundError, match="no photo with id 999"):
        store.accept([photo, 999], "dog")
    assert store.photo_tags(photo) == []  # the transaction rolled back as a whole
    with pytest.raises(NotFoundError):
        store.set_suggestions(999, [("dog", 0.9, "tagger", None)], "v1")
    with pytest.raises(ValueError, match="empty"):
        store.accept(photo, "   ")
    with pytest.raises(ValueError, match="not 'user'"):
        store.set_suggestions(photo, [("dog", 0.9, "user", None)], "v1")
    with pytest.raises(ValueError):
        store.set_suggestions(photo, [("dog", 0.9, "bogus", None)], "v1")
    for score in (math.nan, 1.5, -0.1):
        with pytest.raises(ValueError, match="not in"):
            store.set_suggestions(photo, [("dog", score, "tagger", None)], "v1")
    assert store.photo_tags(photo) == []


def test_record_tagging_writes_suggestions_features_and_status_together(store: Store, photo: int) -> None:
    import numpy as np

    vector = np.arange(8, dtype=np.float32)
    change = store.record_tagging(
        photo, [("dog", 0.9, "tagger", None)], "v1", model_versions={"head": "v1"}, features=vector,
        backbone_version="lite0@1", width=40, height=30,
    )  # fmt: skip
    assert change.added == ["dog"]
    info = store.get_photo(photo)
    assert (info.status, info.model_versions, info.width, info.height) == ("tagged", {"head": "v1"}, 40, 30)
    assert info.tagged_at is not None
    np.testing.assert_array_equal(store.load_features([photo], "lite0@1")[photo], vector)
    with pytest.raises(ValueError, match="not in"):  # one bad tag: nothing of the result is written
        store.record_tagging(photo, [("cat", 2.0, "tagger", None)], "v2", model_versions={"head": "v2"})
    assert store.get_photo(photo).model_versions == {"head": "v1"}
