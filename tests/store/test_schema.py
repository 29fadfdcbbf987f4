"""The schema as created, the engine's PRAGMAs, error translation and tag normalisation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from photo_tagger.store import LATEST_VERSION, Store, StoreError, content_hash, normalise_tag
from photo_tagger.store.engine import database_url, sqlite_file
from photo_tagger.store.schema import TAG_KEY_SPAN, photo_tag_key

from .conftest import add_photos

TABLES = {"folders", "photos", "tags", "photo_tags", "features", "detections", "jobs", "installed_models",
          "schema_version"}


def test_new_library_has_every_table_and_the_latest_version(store: Store, db_path: Path) -> None:
    assert db_path.is_file()
    assert set(sa.inspect(store.engine).get_table_names()) == TABLES
    assert store.schema_version() == LATEST_VERSION
    indexes = {index["name"] for index in sa.inspect(store.engine).get_indexes("photo_tags")}
    assert "ix_photo_tags_rank" in indexes


def test_pragmas_are_set_on_every_connection(store: Store) -> None:
    for _ in range(3):  # pooled connections included
        with store.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 10_000
            assert pragma("synchronous") == 1  # NORMAL


def test_foreign_keys_cascade(store: Store) -> None:
    (photo,) = add_photos(store, "/p", "a.jpg")
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None)], "v1")
    store.enqueue("tag", [photo])
    folder = store.folders()[0]
    assert store.remove_folder(folder.id) == 1
    with store.read() as session:
        for table in ("photos", "photo_tags", "jobs"):
            assert session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dog", "dog"),
        ("  golden   retriever ", "golden retriever"),
        ("Golden\tRetriever\n", "golden retriever"),
        ("CAFE\u0301", "café"),  # combining accent -> NFC
        ("Straße", "straße"),  # lower, not casefold
        ("\u3000東京\u3000タワー", "東京 タワー"),  # ideographic spaces
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_tag(raw: str, expected: str) -> None:
    assert normalise_tag(raw) == expected
    assert normalise_tag(expected) == expected  # idempotent


def test_photo_tags_id_packs_tag_and_photo_and_match_score_is_generated(store: Store) -> None:
    (photo,) = add_photos(store, "/p", "a.jpg")
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None), ("cat", 0.2, "tagger", None)], "v1")
    store.reject(photo, "cat")
    store.add_user_tag(photo, "ball")
    with store.read() as session:
        rows = session.execute(
            sa.text("SELECT t.name, pt.id, pt.tag_id, pt.photo_id, pt.match_score FROM photo_tags pt "
                    "JOIN tags t ON t.id = pt.tag_id")
        ).all()  # fmt: skip
    by_name = {row.name: row for row in rows}
    for row in rows:
        assert row.id == row.tag_id * TAG_KEY_SPAN + row.photo_id == photo_tag_key(row.photo_id, row.tag_id)
    assert by_name["dog"].match_score == pytest.approx(0.9)  # suggested: its score
    assert by_name["ball"].match_score == 1.0  # accepted
    assert by_name["cat"].match_score is None  # rejected: never matches by default


def test_the_packed_id_is_checked(store: Store) -> None:
    (photo,) = add_photos(store, "/p", "a.jpg")
    store.set_suggestions(photo, [("dog", 0.9, "tagger", None)], "v1")
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as session:
        session.execute(sa.text("UPDATE photo_tags SET id = id + 1"))


def test_photo_tags_id_is_the_rowid(store: Store) -> None:
    with store.read() as session:
        plan = session.execute(sa.text("EXPLAIN QUERY PLAN SELECT score FROM photo_tags WHERE id = 5")).all()
    assert "INTEGER PRIMARY KEY" in plan[0][3]


def test_database_urls() -> None:
    assert database_url("/tmp/x/library.sqlite").render_as_string() == "sqlite:////tmp/x/library.sqlite"
    assert sqlite_file(database_url(Path("lib.sqlite"))) == Path("lib.sqlite")
    url = database_url("postgresql://user:secret@host/photos")
    assert url.get_backend_name() == "postgresql"
    assert sqlite_file(url) is None
    assert sqlite_file(database_url("sqlite://")) is None


def test_open_creates_the_folder(tmp_path: Path) -> None:
    with Store.open(tmp_path / "deep" / "er" / "library.sqlite") as store:
        assert store.path == tmp_path / "deep" / "er" / "library.sqlite"
        assert store.path.is_file()


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreError, match="damaged or is not a photo-tagger library"):
        Store.open(path)


def test_a_locked_library_gives_a_clear_error(db_path: Path) -> None:
    with Store.open(db_path, busy_timeout_s=0.2) as store:
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
            with pytest.raises(StoreError, match="locked by another program for more than 0.2 s") as caught:
                store.add_folder("/p")
            assert "Close the other program" in str(caught.value)
            assert store.folders() == []  # WAL: reading still works meanwhile
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.add_folder("/p")  # and writing works again once the lock is gone


def test_programming_errors_are_not_disguised(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as session:
        session.execute(sa.text("INSERT INTO tags (name) VALUES ('x'), ('x')"))


def test_content_hash_is_sha256(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    assert content_hash(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
