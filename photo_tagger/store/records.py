"""Plain values the store hands out: no ORM objects leave a session, so no session crosses a thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .schema import JobState, PhotoStatus, TagSource, TagState


@dataclass(frozen=True)
class FolderInfo:
    id: int
    path: str
    watched: bool
    added_at: datetime


@dataclass(frozen=True)
class PhotoFile:
    """What a scan knows about one file on disk; the input of :meth:`Store.upsert_photos`."""

    path: str
    size: int
    mtime_ns: int
    content_hash: str | None = None
    width: int | None = None
    height: int | None = None
    date_taken: datetime | None = None


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    path: str
    folder_id: int
    size: int
    mtime_ns: int
    content_hash: str | None
    width: int | None
    height: int | None
    date_taken: datetime | None
    status: PhotoStatus
    error: str | None
    added_at: datetime
    tagged_at: datetime | None
    model_versions: dict[str, str] | None


@dataclass
class UpsertReport:
    """What :meth:`Store.upsert_photos` did; new, changed and returned photos need tagging."""

    new: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)  # size or mtime differ: suggestions are stale
    moved: list[int] = field(default_factory=list)  # a missing photo found again under a new path (same hash)
    returned: list[int] = field(default_factory=list)  # a missing photo back at its old path, unchanged
    unchanged: int = 0


@dataclass(frozen=True)
class PhotoTagInfo:
    name: str
    source: TagSource
    score: float
    state: TagState
    model_version: str | None
    parent: str | None
    decided_at: datetime | None


@dataclass
class SuggestionChange:
    """What :func:`set_suggestions` changed on one photo, so a re-tag can show the user what is new."""

    photo_id: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescored: list[str] = field(default_factory=list)  # still suggested, with a new score, source or model version
    kept_decisions: list[str] = field(default_factory=list)  # suggested again, but the user had already decided

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.rescored)


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    photo_id: int | None
    payload: dict[str, Any] | None
    state: JobState
    priority: int
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class InstalledModelInfo:
    name: str
    version: str
    installed_at: datetime
