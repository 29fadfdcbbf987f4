"""Fixtures for the store tests: a fresh on-disk library per test, and a small hand-built one for searches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from photo_tagger.store import PhotoFile, Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "library.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


def add_photos(store: Store, folder: str, *names: str, date_taken: datetime | None = None) -> list[int]:
    """Photos in ``folder`` (created if needed); returns their ids in order."""
    info = store.add_folder(folder)
    files = [PhotoFile(f"{folder}/{name}", size=100 + i, mtime_ns=1_000 + i, date_taken=date_taken)
             for i, name in enumerate(names)]  # fmt: skip
    return store.upsert_photos(info.id, files).new


# The search library: eight photos whose tags exercise every query feature. Scores are chosen so that every
# expected ranking in test_search.py is unambiguous; the comment on each photo says what it is there for.
LIBRARY = {
    # name: (path, date taken, suggestions (name, score, source, parent))
    "p1": ("/lib/2020/beach_dog.jpg", datetime(2020, 7, 4, 12, 0),
           [("dog", 0.9, "tagger", None), ("beach", 0.8, "detector", None), ("sand", 0.5, "glove", "beach")]),
    "p2": ("/lib/2020/night_dog.jpg", datetime(2020, 12, 31, 23, 59),
           [("dog", 0.6, "tagger", None), ("night", 0.7, "tagger", None)]),
    # dog below the default threshold of 0.3
    "p3": ("/lib/2021/cat.jpg", datetime(2021, 6, 1, 8, 0),
           [("cat", 0.95, "tagger", None), ("dog", 0.2, "tagger", None)]),
    # dog is rejected by the user below
    "p4": ("/lib/2021/retriever.jpg", datetime(2021, 6, 15, 9, 30),
           [("Golden  Retriever", 0.85, "tagger", None), ("dog", 0.5, "detector", None)]),
    # no date; dog is added by the user below
    "p5": ("/lib/2021/undated.jpg", None, [("beach", 0.35, "glove", "sea")]),
    # a folder name with LIKE wildcards in it; beach is accepted below
    "p6": ("/lib/100%_done/a.jpg", datetime(2019, 1, 1), [("beach", 0.4, "tagger", None)]),
    # what "/lib/100%_" would match if % and _ were wildcards; tags that look like syntax
    "p7": ("/lib/100ab_done/b.jpg", datetime(2022, 3, 1),
           [("or", 0.9, "tagger", None), ("t-shirt", 0.7, "detector", None)]),
    # upper-case folder: folder: is case-sensitive; dog just above the threshold
    "p8": ("/Lib/2020/upper.jpg", datetime(2020, 1, 1), [("dog", 0.31, "detector", None)]),
}  # fmt: skip


@pytest.fixture
def library(store: Store) -> dict[str, int]:
    """The LIBRARY photos with their suggestions and decisions; returns {"p1": photo id, ...}."""
    ids: dict[str, int] = {}
    for key, (path, taken, tags) in LIBRARY.items():
        folder, _, name = path.rpartition("/")
        info = store.add_folder(folder)
        report = store.upsert_photos(info.id, [PhotoFile(path, size=1, mtime_ns=1, date_taken=taken)])
        ids[key] = report.new[0]
        store.set_suggestions(ids[key], tags, "test@1")
    store.reject(ids["p4"], "dog")
    store.add_user_tag(ids["p5"], "dog")
    store.accept(ids["p6"], "beach")
    return ids
