"""Schema versions: named, ordered migrations, recorded in ``schema_version``, with a backup first.

A new, empty database gets the latest schema straight from :mod:`photo_tagger.store.schema` and is stamped
with every migration's version. An existing library is first copied to ``<file>.bak-v<old>-<timestamp>``
(SQLite's online backup API, consistent under WAL), then brought forward one migration at a time, each in its
own transaction together with its ``schema_version`` row, so a crash leaves the file at a clean version.

Writing a migration: add a function decorated with ``@migration(N, "what it does")`` with N one above the
last, and change the classes in ``schema.py`` to match. The test suite checks that old file + migrations ==
fresh file, so the two cannot drift apart. Migrations never import the classes in ``schema.py`` (those
change); they carry their own frozen DDL. A migration that must rebuild a table (SQLite cannot drop a column
or change a constraint in place) has to run with ``PRAGMA foreign_keys=OFF``, which SQLite ignores inside a
transaction; give it its own runner then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from .engine import StoreError, backup_sqlite, sqlite_file, write_engine
from .schema import Base, SchemaVersion, UTCDateTime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sa.Connection], None]


MIGRATIONS: list[Migration] = []


def migration(version: int, name: str) -> Callable[[Callable[[sa.Connection], None]], Callable[[sa.Connection], None]]:
    """Register ``function`` as the migration to ``version``; versions must be registered in order."""

    def register(function: Callable[[sa.Connection], None]) -> Callable[[sa.Connection], None]:
        expected = len(MIGRATIONS) + 1
        if version != expected:
            raise RuntimeError(f"migration {name!r} has version {version}; the next version is {expected}")
        MIGRATIONS.append(Migration(version, name, function))
        return function

    return register


@migration(1, "initial schema")
def _initial_schema(connection: sa.Connection) -> None:
    # The schema as first released, frozen: enums are VARCHAR(16), timestamps DATETIME. photo_tags.id packs
    # tag_id * 2**32 + photo_id (see schema.PhotoTag for why).
    metadata = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    sa.Table(
        "folders",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String, nullable=False, unique=True),
        sa.Column("watched", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    sa.Table(
        "photos",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String, nullable=False, unique=True),
        sa.Column("folder_id", sa.ForeignKey("folders.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("content_hash", sa.String(64), index=True),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("date_taken", sa.DateTime, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("error", sa.Text),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.Column("tagged_at", UTCDateTime),
        sa.Column("model_versions", sa.JSON),
    )
    sa.Table(
        "tags",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, unique=True, nullable=False),
    )
    sa.Table(
        "photo_tags",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("photo_id", sa.ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("model_version", sa.String),
        sa.Column("parent", sa.String),
        sa.Column("decided_at", UTCDateTime),
        sa.Column(
            "match_score",
            sa.Float,
            sa.Computed("CASE state WHEN 'accepted' THEN 1.0 WHEN 'suggested' THEN score END", persisted=True),
        ),
        sa.UniqueConstraint("photo_id", "tag_id"),
        sa.Index("ix_photo_tags_rank", "tag_id", "match_score"),
        sa.CheckConstraint("id = tag_id * 4294967296 + photo_id", name="packed_id"),
    )
    sa.Table(
        "features",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("photo_id", sa.ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("backbone_version", sa.String, nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("photo_id", "backbone_version"),
    )
    sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("photo_id", sa.ForeignKey("photos.id", ondelete="CASCADE")),
        sa.Column("payload", sa.JSON),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Index("ix_jobs_state", "state", "id"),
        sa.Index("ix_jobs_photo", "photo_id", "kind", "state"),
    )
    sa.Table(
        "installed_models",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("version", sa.String, nullable=False),
        sa.Column("installed_at", UTCDateTime, nullable=False),
    )
    sa.Table(
        "schema_version",
        metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("applied_at", UTCDateTime, nullable=False),
    )
    metadata.create_all(connection)


@migration(2, "job priority")
def _job_priority(connection: sa.Connection) -> None:
    # The worker claims interactive jobs (a thumbnail the user is looking at, re-tagging one photo) before the
    # rest of a long scan; the claim index orders by priority so that choice stays an index walk.
    connection.execute(sa.text("ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"))
    connection.execute(sa.text("DROP INDEX ix_jobs_state"))
    connection.execute(sa.text("CREATE INDEX ix_jobs_claim ON jobs (state, priority DESC, id)"))


@migration(3, "stored detections")
def _stored_detections(connection: sa.Connection) -> None:
    # What the detector found, kept beside the features so a model update re-tags without the images.
    metadata = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    sa.Table("photos", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "detections",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("photo_id", sa.ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("detector_version", sa.String, nullable=False),
        sa.Column("boxes", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("photo_id", "detector_version"),
    )
    metadata.tables["detections"].create(connection)


LATEST_VERSION = MIGRATIONS[-1].version


def current_version(connection: sa.Connection) -> int:
    """The schema version of the database: 0 for an empty one; StoreError for a file that is not a library."""
    tables = set(sa.inspect(connection).get_table_names())
    if "schema_version" not in tables:
        if tables:
            raise StoreError(
                f"The database holds tables ({', '.join(sorted(tables)[:5])}) but is not a photo-tagger "
                "library. Choose another library file."
            )
        return 0
    version = connection.execute(sa.select(sa.func.max(SchemaVersion.version))).scalar()
    return int(version or 0)


@dataclass(frozen=True)
class UpgradeReport:
    old_version: int
    new_version: int
    applied: tuple[str, ...]
    backup: Path | None


def upgrade(engine: sa.Engine, target: int | None = None, *, backup_dir: Path | None = None) -> UpgradeReport:
    """Bring the database to ``target`` (default: the latest version), backing up an existing library first.

    With ``target`` None an empty database gets the latest schema in one step. With an explicit ``target``
    every migration up to it runs in order, which is how the tests build an old library to upgrade.
    """
    target = LATEST_VERSION if target is None else target
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"schema version {target} does not exist (latest is {LATEST_VERSION})")
    with engine.connect() as connection:
        old = current_version(connection)
    if old > LATEST_VERSION:
        raise StoreError(
            f"This library was written by a newer photo-tagger (schema version {old}; this version knows up "
            f"to {LATEST_VERSION}). Update photo-tagger, or open a different library."
        )
    if old >= target:
        return UpgradeReport(old, old, (), None)
    writer = write_engine(engine)
    if old == 0 and target == LATEST_VERSION:
        with writer.begin() as connection:
            if current_version(connection) == 0:  # another process may have created it meanwhile
                Base.metadata.create_all(connection)
                _stamp(connection, MIGRATIONS)
        log.info("created a new library at schema version %d", LATEST_VERSION)
        return UpgradeReport(0, LATEST_VERSION, tuple(m.name for m in MIGRATIONS), None)

    backup = _backup_before_migrating(engine, old, backup_dir) if old > 0 else None
    applied = []
    for step in MIGRATIONS[old:target]:
        with writer.begin() as connection:
            if current_version(connection) >= step.version:
                continue
            log.info("migrating the library to schema version %d: %s", step.version, step.name)
            step.apply(connection)
            _stamp(connection, [step])
        applied.append(step.name)
    return UpgradeReport(old, target, tuple(applied), backup)


def _stamp(connection: sa.Connection, steps: list[Migration]) -> None:
    now = datetime.now(UTC)
    connection.execute(
        sa.insert(SchemaVersion), [{"version": m.version, "name": m.name, "applied_at": now} for m in steps]
    )


def backup_path(database: Path, version: int, backup_dir: Path | None = None, now: datetime | None = None) -> Path:
    """``<file>.bak-v<version>-<UTC timestamp>``, beside the file unless ``backup_dir`` says otherwise."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = backup_dir or database.parent
    candidate = folder / f"{database.name}.bak-v{version}-{stamp}"
    counter = 1
    while candidate.exists():  # two upgrades within one second (tests do that)
        counter += 1
        candidate = folder / f"{database.name}.bak-v{version}-{stamp}-{counter}"
    return candidate


def _backup_before_migrating(engine: sa.Engine, version: int, backup_dir: Path | None) -> Path | None:
    database = sqlite_file(engine.url)
    if database is None:
        log.warning(
            "upgrading %s from schema version %d without a backup: back up server databases yourself",
            engine.url.render_as_string(hide_password=True),
            version,
        )
        return None
    destination = backup_sqlite(engine, backup_path(database, version, backup_dir))
    log.info("backed up the library to %s before migrating", destination)
    return destination
