"""Re-tagging a real library after a model update: the diff, applying it, and decisions that survive it."""

from __future__ import annotations

import sqlite3

import pytest

from photo_tagger.retag import Retagger
from photo_tagger.store import PhotoStatus, TagSource, TagState


def machine_suggestions(library) -> dict[str, dict[str, float]]:
    out = {}
    for photo_id in library.store.photo_ids(PhotoStatus.TAGGED):
        path = library.store.get_photo(photo_id).path
        out[path] = {t.name: t.score for t in library.store.photo_tags(photo_id)
                     if t.state == TagState.SUGGESTED and t.source != TagSource.USER}
    return out


def decisions(library) -> dict[str, set[tuple[str, str]]]:
    out = {}
    for photo_id in library.store.photo_ids():
        path = library.store.get_photo(photo_id).path
        out[path] = {(t.name, t.state.value) for t in library.store.photo_tags(photo_id) if t.state != "suggested"}
    return out


def test_stored_evidence_reproduces_the_stored_suggestions(tagged_library, tagger) -> None:
    before = machine_suggestions(tagged_library)
    forced = Retagger(tagged_library.store, tagger).run(apply=True, force=True)
    assert forced.from_evidence == forced.photos == 7
    assert (forced.changed, forced.gained, forced.lost, sum(t.rescored for t in forced.tags.values())) == (0, 0, 0, 0)
    assert machine_suggestions(tagged_library) == before
    plain = tagged_library.retag(tagger=tagger)
    assert plain.up_to_date == 7 and plain.from_evidence == 0 and not plain.tags


def test_a_new_head_version_changes_what_the_image_path_says_and_keeps_decisions(tagged_library, tagger_v2,
                                                                                 second_head_changes) -> None:
    library = tagged_library
    easier, harder = second_head_changes
    dog = str(next(p for p in machine_suggestions(library) if p.endswith("dog.jpg")))
    crowd = str(next(p for p in machine_suggestions(library) if p.endswith("crowd.jpg")))
    assert "dog" in machine_suggestions(library)[dog] and "people" in machine_suggestions(library)[crowd]
    library.decide("accept", "dog", [dog])  # v2 makes dog harder: the acceptance must stay
    library.decide("reject", "people", [crowd])
    library.decide("add", "rex", [dog])
    before_suggestions, before_decisions = machine_suggestions(library), decisions(library)

    dry = library.retag(tagger=tagger_v2)
    assert dry.from_evidence == 7 and dry.needs_images == 0 and not dry.applied
    assert machine_suggestions(library) == before_suggestions  # a dry run writes nothing

    # The right answer, independently: tag the images themselves with head version 2.
    expected = {r.path: {t.name: t.score for t in r.tags} for r in tagger_v2.tag_paths(sorted(before_suggestions))}
    decided = {path: {name for name, _ in names} for path, names in before_decisions.items()}
    for path in expected:
        expected[path] = {n: s for n, s in expected[path].items() if n not in decided[path]}
    gains = {(p, n) for p in expected for n in expected[p] if n not in before_suggestions[p]}
    losses = {(p, n) for p in expected for n in before_suggestions[p] if n not in expected[p]}
    assert gains and losses
    assert {t.tag for t in dry.tags.values() if t.gained} == {n for _, n in gains}
    assert {t.tag for t in dry.tags.values() if t.lost} == {n for _, n in losses}
    assert dry.gained == len(gains) and dry.lost == len(losses)
    assert {n for _, n in gains} & set(easier) and {n for _, n in losses} & set(harder)
    assert not {n for _, n in gains} & set(harder)

    applied = library.retag(apply=True, tagger=tagger_v2)
    assert applied.applied and applied.gained == dry.gained and applied.lost == dry.lost
    after = machine_suggestions(library)
    assert after.keys() == expected.keys()
    for path in expected:
        assert after[path].keys() == expected[path].keys(), path
        for name, score in expected[path].items():
            assert after[path][name] == pytest.approx(score, abs=1e-4)
    assert decisions(library) == before_decisions  # accepted, rejected and user tags untouched
    assert ("dog", "accepted") in decisions(library)[dog] and ("people", "rejected") in decisions(library)[crowd]
    assert all(library.store.get_photo(library.store.photo_by_path(p).id).model_versions == tagger_v2.model_versions
               for p in expected)
    again = library.retag(tagger=tagger_v2)
    assert again.up_to_date == 7 and not again.tags  # re-tagging with unchanged models changes nothing


def test_photos_without_evidence_for_the_backbone_go_back_through_the_cnn(tagged_library, tagger, tag_all) -> None:
    library = tagged_library
    # A backbone update: the features in the library are from another backbone version now.
    with sqlite3.connect(library.store.path) as db:
        db.execute("UPDATE features SET backbone_version = 'old-backbone:1' WHERE photo_id IN "
                   "(SELECT id FROM photos WHERE path LIKE '%dog.jpg' OR path LIKE '%kite.jpg')")
        db.execute("UPDATE photos SET model_versions = json_set(model_versions, '$.backbone', 'old-backbone:1') "
                   "WHERE path LIKE '%dog.jpg' OR path LIKE '%kite.jpg'")
    library.decide("accept", "dog", [next(p for p in machine_suggestions(library) if p.endswith("dog.jpg"))])
    dry = library.retag(tagger=tagger)
    assert (dry.needs_images, dry.queued, dry.up_to_date) == (2, 0, 5)
    assert library.queued() == 0
    applied = library.retag(apply=True, tagger=tagger)
    assert applied.queued == 2 and library.queued() == 2
    tag_all(library)  # the background worker's job: the CNN sees the two photos again
    final = library.retag(tagger=tagger)
    assert final.up_to_date == 7 and final.needs_images == 0
    dog = library.store.photo_by_path(next(p for p in machine_suggestions(library) if p.endswith("dog.jpg")))
    assert ("dog", "accepted") in {(t.name, t.state.value) for t in library.store.photo_tags(dog.id)}


def test_a_retag_interrupted_between_batches_finishes_when_run_again(tagged_library, tagger_v2) -> None:
    library = tagged_library

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(done: int, total: int) -> None:
        if done:  # the first call reports the start, before any batch
            raise Interrupted

    retagger = Retagger(library.store, tagger_v2, batch_size=3)
    with pytest.raises(Interrupted):
        retagger.run(apply=True, progress=stop_after_first_batch)
    halfway = library.retag(tagger=tagger_v2)
    assert halfway.up_to_date == 3 and halfway.from_evidence == 4  # the first batch was written whole
    with sqlite3.connect(library.store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    retagger.run(apply=True)
    assert library.retag(tagger=tagger_v2).up_to_date == 7


def test_scoring_processes_give_the_same_diff_and_writes_as_one_process(tagged_library, tagger_v2) -> None:
    library = tagged_library
    inline = Retagger(library.store, tagger_v2, batch_size=2, workers=1).run()
    parallel = Retagger(library.store, tagger_v2, batch_size=2, workers=2, parallel_from=1)
    assert parallel.run().as_dict() == inline.as_dict()
    applied = parallel.run(apply=True)
    assert (applied.gained, applied.lost, applied.changed) == (inline.gained, inline.lost, inline.changed)
    assert Retagger(library.store, tagger_v2).run().up_to_date == 7


def test_a_changed_threshold_is_re_tagged_from_the_stored_evidence(tagged_library, settings, tagger) -> None:
    from dataclasses import replace

    from photo_tagger.pipeline.tagger import Tagger

    stricter = Tagger(replace(settings, thresholds={**settings.thresholds, "glove": 0.6}))
    assert stricter.model_versions["thresholds"] != tagger.model_versions["thresholds"]
    glove_before = {name for tags in machine_suggestions(tagged_library).values() for name in tags}
    diff = tagged_library.retag(apply=True, tagger=stricter)
    assert diff.from_evidence == 7 and diff.needs_images == 0 and diff.lost > 0 and diff.gained == 0
    low_glove = [t for photo in tagged_library.store.photo_ids()
                 for t in tagged_library.store.photo_tags(photo)
                 if t.source == TagSource.GLOVE and t.state == TagState.SUGGESTED and t.score < 0.6]
    assert not low_glove and glove_before


def test_a_photo_removed_since_its_evidence_was_read_gets_nothing_written(tagged_library) -> None:
    from photo_tagger.store.evidence import SuggestionWrites

    store = tagged_library.store
    ids = store.photo_ids()
    store.delete_photos([ids[0]])  # the folder was removed while the batch was being scored
    seen = {}

    def decide(current):
        seen.update(current)
        writes = SuggestionWrites()
        writes.added.append((ids[1], "zebra crossing", 0.9, "tagger", None))
        return writes

    store.rewrite_suggestions(ids, decide, "mv-test")
    assert set(seen) == set(ids[1:])  # no entry, so the engine writes nothing for it (and no FOREIGN KEY error)
    assert "zebra crossing" in {t.name for t in store.photo_tags(ids[1])}


def test_evidence_is_read_for_the_photos_asked_for_only(tagged_library, tagger) -> None:
    store = tagged_library.store
    ids = store.photo_ids()
    wanted = [ids[1], ids[5]]  # stale photos spread over the library: the ones between are not read
    batch = store.read_evidence(wanted, tagger.model_versions["backbone"], tagger.model_versions["detector"])
    assert batch.photo_ids == wanted and all(f is not None and f.shape == (1280,) for f in batch.features)
    assert all(isinstance(boxes, list) for boxes in batch.boxes)
    assert set(store.machine_tags(wanted)) == set(wanted)
