"""The library's tables, as SQLAlchemy 2.0 typed declarative classes.

These classes describe the *latest* schema: a new library file is created from them directly, while an
existing file is brought up to date by :mod:`photo_tagger.store.migrations` (which keeps frozen copies of
older schemas).

Conventions, chosen once here so every module agrees:

- ``*_at`` timestamps are UTC; they are stored naive (SQLite has no time zones) and read back as aware
  datetimes.
- ``photos.date_taken`` is the EXIF wall-clock time, naive, in whatever zone the camera was set to: EXIF
  rarely says.
- ``photos.content_hash`` is the SHA-256 hex digest of the file's bytes (:func:`content_hash`). SHA-256 rather
  than BLAKE2: the model registry already verifies downloads with SHA-256, hashlib's SHA-256 runs on the CPU's
  SHA instructions where they exist, and one algorithm in the project is easier to reason about.
- ``photos.mtime_ns`` is ``os.stat().st_mtime_ns``: an integer, so "changed since the last scan" is an exact
  compare.
- Enumerations are stored as their lowercase string values, so the file stays readable with the ``sqlite3``
  shell. SQLAlchemy validates them on the way in; there is deliberately no CHECK constraint, because SQLite
  can only change one by rebuilding the table, and a new status should be a code change, not a migration.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are spelled out so that migrations can refer to them on any backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PhotoStatus(enum.StrEnum):
    NEW = "new"  # found by a scan, not tagged yet (or changed on disk since it was)
    TAGGED = "tagged"
    MISSING = "missing"  # the file has gone; kept so its tags survive a move or a remount
    ERROR = "error"  # could not be read or tagged; photos.error says why


class TagSource(enum.StrEnum):
    TAGGER = "tagger"
    DETECTOR = "detector"
    GLOVE = "glove"
    USER = "user"


MACHINE_SOURCES = frozenset({TagSource.TAGGER, TagSource.DETECTOR, TagSource.GLOVE})


class TagState(enum.StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive so SQLite's string compare orders it correctly."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def enum_type(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    """The column type for one of the enumerations above: its values as VARCHAR(16), validated in Python."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Folder(Base):
    __tablename__ = "folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(sa.String, unique=True)
    watched: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(sa.String, unique=True)
    folder_id: Mapped[int] = mapped_column(sa.ForeignKey("folders.id", ondelete="CASCADE"), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    mtime_ns: Mapped[int] = mapped_column(sa.BigInteger)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    width: Mapped[int | None]
    height: Mapped[int | None]
    date_taken: Mapped[datetime | None] = mapped_column(sa.DateTime, index=True)
    status: Mapped[PhotoStatus] = mapped_column(
        enum_type(PhotoStatus, "photo_status"), default=PhotoStatus.NEW, index=True
    )
    error: Mapped[str | None] = mapped_column(sa.Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {"backbone": "efficientnet_lite0@1", "head": "...", "detector": "...", "glove": "..."}: which models
    # produced the current suggestions, so a model update knows which photos to re-tag.
    model_versions: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)


class Tag(Base):
    """One tag name, normalised by :func:`normalise_tag`; every photo-tag row points here."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String, unique=True)


# photo_tags.id packs (tag_id, photo_id) into one integer; see PhotoTag.
TAG_KEY_SPAN = 1 << 32
# The score a search ranks and filters by: 1.0 once accepted, the model's score while suggested, NULL once
# rejected.
MATCH_SCORE_SQL = "CASE state WHEN 'accepted' THEN 1.0 WHEN 'suggested' THEN score END"


def photo_tag_key(photo_id: int, tag_id: int) -> int:
    """``photo_tags.id`` of the row for (photo, tag)."""
    if not (0 < photo_id < TAG_KEY_SPAN and 0 < tag_id < TAG_KEY_SPAN // 2):
        raise ValueError(f"photo id {photo_id} / tag id {tag_id} out of the range photo_tags.id can pack")
    return tag_id * TAG_KEY_SPAN + photo_id


def _default_photo_tag_key(context: Any) -> int:
    values = context.get_current_parameters()
    return photo_tag_key(values["photo_id"], values["tag_id"])


class PhotoTag(Base):
    """A tag on a photo: who proposed it, how sure it was, and what the user decided.

    Laid out for the search. ``id`` is ``tag_id * 2**32 + photo_id`` (a CHECK keeps it honest), and in SQLite
    an INTEGER PRIMARY KEY is the rowid that the table is clustered on. So one tag's rows are one contiguous
    range, in photo order, holding every column; and "does photo P have tag T, with what state and score" --
    the probe a search makes for each candidate photo -- is a rowid lookup. SQLite's rowid lookups run about
    five times faster than lookups on a two-column key, which is what brings a three-term query on 100,000
    photos under 10 ms (see ``benchmarks/bench_search.py``). The unique (photo_id, tag_id) index lists a
    photo's tags, and ``ix_photo_tags_rank`` gives one tag's photos best first without sorting.
    """

    __tablename__ = "photo_tags"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # exactly INTEGER, or SQLite makes no rowid alias
        primary_key=True,
        autoincrement=False,
        default=_default_photo_tag_key,
    )
    photo_id: Mapped[int] = mapped_column(sa.ForeignKey("photos.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(sa.ForeignKey("tags.id", ondelete="CASCADE"))
    source: Mapped[TagSource] = mapped_column(enum_type(TagSource, "tag_source"))
    score: Mapped[float] = mapped_column(sa.Float)
    state: Mapped[TagState] = mapped_column(enum_type(TagState, "tag_state"), default=TagState.SUGGESTED)
    model_version: Mapped[str | None] = mapped_column(sa.String)
    parent: Mapped[str | None] = mapped_column(sa.String)  # a GloVe tag's parent tag name
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    match_score: Mapped[float | None] = mapped_column(sa.Float, sa.Computed(MATCH_SCORE_SQL, persisted=True))

    __table_args__ = (
        sa.UniqueConstraint("photo_id", "tag_id"),
        sa.Index("ix_photo_tags_rank", "tag_id", "match_score"),
        sa.CheckConstraint(f"id = tag_id * {TAG_KEY_SPAN} + photo_id", name="packed_id"),
    )


class Feature(Base):
    """Backbone features of a photo as little-endian float32 bytes: a new head re-tags without the CNN."""

    __tablename__ = "features"

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(sa.ForeignKey("photos.id", ondelete="CASCADE"))
    backbone_version: Mapped[str] = mapped_column(sa.String)
    dim: Mapped[int]
    vector: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("photo_id", "backbone_version"),)


class Detections(Base):
    """Everything the detector found in a photo, as JSON ``[[label, score, x0, y0, x1, y1], ...]`` (added by
    migration 3). With the features it is the photo's whole evidence: a new head, vocabulary or GloVe re-tags the
    photo from these two rows without opening the image."""

    __tablename__ = "detections"

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(sa.ForeignKey("photos.id", ondelete="CASCADE"))
    detector_version: Mapped[str] = mapped_column(sa.String)
    boxes: Mapped[list[list[Any]]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("photo_id", "detector_version"),)


class Job(Base):
    """One unit of background work; the queue lives here so it survives a crash or a quit."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))  # "tag", "thumbnail", "retag", ...
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("photos.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, "job_state"), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Added by migration 2. Higher runs first: a click (one photo's thumbnail) overtakes a long scan.
    priority: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    __table_args__ = (
        sa.Index("ix_jobs_claim", "state", sa.desc("priority"), "id"),
        sa.Index("ix_jobs_photo", "photo_id", "kind", "state"),
    )


class InstalledModel(Base):
    """The version of each model file the engine has installed (one row per model name)."""

    __tablename__ = "installed_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String, unique=True)
    version: Mapped[str] = mapped_column(sa.String)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchemaVersion(Base):
    """One row per applied migration; the library's schema version is the highest ``version``."""

    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(sa.String)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def normalise_tag(name: str) -> str:
    """The canonical spelling of a tag: NFC, lowercase, trimmed, inner whitespace collapsed to one space.

    >>> normalise_tag("  Golden\\tRetriever ")
    'golden retriever'

    NFC first, so "café" typed with a combining accent and "café" pasted from elsewhere are one tag.
    ``str.lower`` rather than ``casefold``: casefold turns "ß" into "ss", which changes German words.
    """
    return " ".join(unicodedata.normalize("NFC", name).lower().split())


def content_hash(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes, the value stored in ``photos.content_hash``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
