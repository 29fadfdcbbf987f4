"""Migrations run one at a time, back the file up first, keep the data, and end at the fresh schema."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from photo_tagger.store import LATEST_VERSION, Store, StoreError
from photo_tagger.store.engine import make_engine
from photo_tagger.store.migrations import MIGRATIONS, backup_path, current_version, upgrade

NOW = "2024-05-01 10:00:00.000000"


def fill_v1(engine: sa.Engine) -> None:
    """Data written by a version-1 photo-tagger, in version-1 SQL."""
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(f"INSERT INTO folders (id, path, watched, added_at) VALUES (1, '/p', 1, '{NOW}')")
        run("INSERT INTO photos (id, path, folder_id, size, mtime_ns, status, added_at, date_taken) "
            f"VALUES (7, '/p/a.jpg', 1, 10, 20, 'tagged', '{NOW}', '2021-06-01 12:00:00.000000')")  # fmt: skip
        run("INSERT INTO tags (id, name) VALUES (3, 'dog'), (4, 'beach')")
        for tag, state, score in ((3, "accepted", 0.9), (4, "suggested", 0.6)):
            run("INSERT INTO photo_tags (id, photo_id, tag_id, source, score, state) "
                f"VALUES ({tag * 2**32 + 7}, 7, {tag}, 'tagger', {score}, '{state}')")  # fmt: skip
        run("INSERT INTO jobs (kind, photo_id, state, attempts, created_at, updated_at) "
            f"VALUES ('tag', 7, 'queued', 0, '{NOW}', '{NOW}')")  # fmt: skip


def schema(engine: sa.Engine) -> dict[str, object]:
    """Tables (columns with type, nullability, default, key) and indexes (columns, order, uniqueness)."""
    described: dict[str, object] = {}
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        names = run("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        for kind, name, table in names.all():
            if kind == "table":
                described[name] = run(f"PRAGMA table_xinfo({name})").all()
            elif kind == "index":
                unique = [row for row in run(f"PRAGMA index_list({table})") if row[1] == name][0][2]
                described[name] = (table, unique, [row[1:5] for row in run(f"PRAGMA index_xinfo({name})")])
        # the CHECK constraint and the generated column live only in the CREATE TABLE text
        described["photo_tags.sql"] = " ".join(
            run("SELECT sql FROM sqlite_master WHERE name = 'photo_tags'").scalar().split()
        )
    return described


def test_migrations_are_named_and_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert MIGRATIONS[0].name == "initial schema"
    assert all(m.name for m in MIGRATIONS)


def test_fresh_library_gets_the_latest_schema_without_a_backup(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.upgrade_report.old_version == 0
        assert store.upgrade_report.backup is None
        with store.read() as session:
            history = session.execute(sa.text("SELECT version, name FROM schema_version ORDER BY version")).all()
    assert [tuple(row) for row in history] == [(m.version, m.name) for m in MIGRATIONS]
    assert not list(db_path.parent.glob("*.bak-*"))


def test_migrating_one_step_at_a_time_backs_up_and_keeps_the_data(db_path: Path) -> None:
    engine = make_engine(db_path)
    report = upgrade(engine, target=1)
    assert (report.old_version, report.new_version, report.backup) == (0, 1, None)
    fill_v1(engine)
    with engine.connect() as connection:
        assert current_version(connection) == 1
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(jobs)")}
        assert "priority" not in columns

    report = upgrade(engine, target=2)
    assert (report.old_version, report.new_version, report.applied) == (1, 2, ("job priority",))
    assert report.backup is not None and report.backup.is_file()
    assert report.backup.name.startswith("library.sqlite.bak-v1-")
    backup = sqlite3.connect(report.backup)
    try:  # the backup is the version-1 library, data and all
        assert backup.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        assert backup.execute("SELECT path FROM photos").fetchall() == [("/p/a.jpg",)]
        assert backup.execute("SELECT count(*) FROM photo_tags").fetchone() == (2,)
    finally:
        backup.close()
    with engine.connect() as connection:
        assert current_version(connection) == 2
        assert connection.exec_driver_sql("SELECT kind, photo_id, priority FROM jobs").all() == [("tag", 7, 0)]

    report = upgrade(engine, target=3)
    assert (report.old_version, report.new_version, report.applied) == (2, 3, ("stored detections",))
    with engine.connect() as connection:  # the evidence table a re-tag reads, empty until photos are tagged again
        assert connection.exec_driver_sql("SELECT count(*) FROM detections").scalar() == 0
    upgrade(engine)
    engine.dispose()

    with Store.open(db_path) as store:  # already current: no second backup
        assert store.upgrade_report.backup is None
        assert [(t.name, t.state) for t in store.photo_tags(7)] == [("dog", "accepted"), ("beach", "suggested")]
        result = store.search("dog beach date:2021")
        assert [hit.photo_id for hit in result.hits] == [7]
        assert result.hits[0].score == pytest.approx(1.6)
        assert store.claim_jobs(5)[0].photo_id == 7
    assert len(list(db_path.parent.glob("*.bak-*"))) == LATEST_VERSION - 1  # one per upgrade of an existing file


def test_opening_an_old_library_migrates_it_to_the_latest(db_path: Path) -> None:
    engine = make_engine(db_path)
    upgrade(engine, target=1)
    fill_v1(engine)
    engine.dispose()
    with Store.open(db_path) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.upgrade_report.old_version == 1
        assert store.upgrade_report.backup is not None
        assert store.photo_by_path("/p/a.jpg").id == 7


def test_old_library_plus_migrations_equals_a_fresh_library(tmp_path: Path) -> None:
    migrated, fresh = make_engine(tmp_path / "migrated.sqlite"), make_engine(tmp_path / "fresh.sqlite")
    for version in range(1, LATEST_VERSION + 1):
        upgrade(migrated, target=version)
    upgrade(fresh)
    assert schema(migrated) == schema(fresh)
    migrated.dispose()
    fresh.dispose()


def test_a_library_from_a_newer_version_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, 'from the future', '2030-01-01 00:00:00')")
    connection.close()
    with pytest.raises(StoreError, match="newer photo-tagger"):
        Store.open(db_path)


def test_a_database_of_another_application_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    connection.close()
    with pytest.raises(StoreError, match="not a photo-tagger library"):
        Store.open(db_path)


def test_upgrade_to_a_version_that_does_not_exist(db_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        upgrade(make_engine(db_path), target=LATEST_VERSION + 1)


def test_backup_names_never_collide(tmp_path: Path) -> None:
    database = tmp_path / "library.sqlite"
    moment = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    first = backup_path(database, 1, now=moment)
    assert first.name == "library.sqlite.bak-v1-20240501T100000Z"
    first.touch()
    second = backup_path(database, 1, now=moment)
    assert second != first and second.name.startswith(first.name)
