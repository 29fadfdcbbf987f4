"""Folders, photos, backbone features and installed model versions: session-level functions.

Like :mod:`photo_tagger.store.decisions`, each function takes an open session and leaves committing to the
caller. Paths are stored as given; the library facade passes absolute paths, and ``folder:`` searches compare
prefixes of these strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .decisions import chunks, require_photos
from .engine import NotFoundError
from .records import FolderInfo, InstalledModelInfo, PhotoFile, PhotoInfo, UpsertReport
from .schema import Feature, Folder, InstalledModel, Photo, PhotoStatus, utcnow

if TYPE_CHECKING:
    import numpy as np

_PHOTO_COLUMNS = [getattr(Photo, f.name) for f in fields(PhotoInfo)]


class PhotoStat(NamedTuple):
    """The columns a rescan compares with ``os.stat``."""

    id: int
    size: int
    mtime_ns: int
    status: PhotoStatus


# -- folders -------------------------------------------------------------------------------------------------


def add_folder(session: Session, path: str, watched: bool = True) -> FolderInfo:
    """Add a folder to the library; adding one that is already there returns it unchanged."""
    folder = session.execute(sa.select(Folder).where(Folder.path == path)).scalar_one_or_none()
    if folder is None:
        folder = Folder(path=path, watched=watched, added_at=utcnow())
        session.add(folder)
        session.flush()
    return FolderInfo(folder.id, folder.path, folder.watched, folder.added_at)


def folders(session: Session) -> list[FolderInfo]:
    rows = session.execute(sa.select(Folder).order_by(Folder.path)).scalars()
    return [FolderInfo(f.id, f.path, f.watched, f.added_at) for f in rows]


def set_folder_watched(session: Session, folder_id: int, watched: bool) -> None:
    result = session.execute(sa.update(Folder).where(Folder.id == folder_id).values(watched=watched))
    if result.rowcount == 0:
        raise NotFoundError(f"There is no folder with id {folder_id} in the library.")


def remove_folder(session: Session, folder_id: int) -> int:
    """Remove a folder and (by cascade) its photos, their tags, features and jobs; returns photos removed."""
    count = session.execute(sa.select(sa.func.count()).where(Photo.folder_id == folder_id)).scalar_one()
    result = session.execute(sa.delete(Folder).where(Folder.id == folder_id))
    if result.rowcount == 0:
        raise NotFoundError(f"There is no folder with id {folder_id} in the library.")
    return count


# -- photos --------------------------------------------------------------------------------------------------


def _photo_info(row: sa.Row) -> PhotoInfo:
    return PhotoInfo(*row)


def get_photo(session: Session, photo_id: int) -> PhotoInfo | None:
    row = session.execute(sa.select(*_PHOTO_COLUMNS).where(Photo.id == photo_id)).one_or_none()
    return _photo_info(row) if row else None


def photo_by_path(session: Session, path: str) -> PhotoInfo | None:
    row = session.execute(sa.select(*_PHOTO_COLUMNS).where(Photo.path == path)).one_or_none()
    return _photo_info(row) if row else None


def photos_by_hash(session: Session, content_hash: str) -> list[PhotoInfo]:
    rows = session.execute(sa.select(*_PHOTO_COLUMNS).where(Photo.content_hash == content_hash).order_by(Photo.id))
    return [_photo_info(row) for row in rows]


def photo_index(session: Session, folder_id: int) -> dict[str, PhotoStat]:
    """``{path: (id, size, mtime_ns, status)}`` of one folder's photos, for a rescan to diff with the disk."""
    rows = session.execute(
        sa.select(Photo.path, Photo.id, Photo.size, Photo.mtime_ns, Photo.status).where(Photo.folder_id == folder_id)
    )
    return {row.path: PhotoStat(row.id, row.size, row.mtime_ns, row.status) for row in rows}


def photo_ids(session: Session, status: PhotoStatus | None = None, folder_id: int | None = None) -> list[int]:
    query = sa.select(Photo.id).order_by(Photo.id)
    if status is not None:
        query = query.where(Photo.status == status)
    if folder_id is not None:
        query = query.where(Photo.folder_id == folder_id)
    return list(session.execute(query).scalars())


def status_counts(session: Session) -> dict[PhotoStatus, int]:
    counts = dict.fromkeys(PhotoStatus, 0)
    query = sa.select(Photo.status, sa.func.count()).group_by(Photo.status)
    counts.update(session.execute(query).all())
    return counts


def upsert_photos(session: Session, folder_id: int, files: Iterable[PhotoFile]) -> UpsertReport:
    """Record what a scan found in one folder; the report says which photos need (re)tagging.

    - a new path is inserted as ``new``, unless its content hash matches a ``missing`` photo: then that photo
      moved, and it keeps its tags under the new path;
    - a known path whose size or mtime changed goes back to ``new`` (its suggestions are stale);
    - a known ``missing`` photo back at its path, unchanged, gets its old status back.
    """
    if session.get(Folder, folder_id) is None:
        raise NotFoundError(f"There is no folder with id {folder_id} in the library.")
    files = list({file.path: file for file in files}.values())
    existing: dict[str, sa.Row] = {}
    for part in chunks([file.path for file in files]):
        rows = session.execute(
            sa.select(Photo.path, Photo.id, Photo.size, Photo.mtime_ns, Photo.status, Photo.tagged_at).where(
                Photo.path.in_(part)
            )
        )
        existing.update((row.path, row) for row in rows)
    report = UpsertReport()
    inserts = []
    now = utcnow()
    for file in files:
        facts = {
            "size": file.size, "mtime_ns": file.mtime_ns, "content_hash": file.content_hash,
            "width": file.width, "height": file.height, "date_taken": file.date_taken,
        }  # fmt: skip
        row = existing.get(file.path)
        if row is not None and (row.size, row.mtime_ns) == (file.size, file.mtime_ns):
            if row.status == PhotoStatus.MISSING:
                restored = PhotoStatus.TAGGED if row.tagged_at else PhotoStatus.NEW
                session.execute(sa.update(Photo).where(Photo.id == row.id).values(status=restored))
                report.returned.append(row.id)
            else:
                report.unchanged += 1
        elif row is not None:
            session.execute(
                sa.update(Photo).where(Photo.id == row.id).values(**facts, status=PhotoStatus.NEW, error=None)
            )
            report.changed.append(row.id)
        elif (moved := _missing_with_hash(session, file.content_hash)) is not None:
            restored = PhotoStatus.TAGGED if moved.tagged_at else PhotoStatus.NEW
            session.execute(
                sa.update(Photo)
                .where(Photo.id == moved.id)
                .values(**facts, path=file.path, folder_id=folder_id, status=restored)
            )
            report.moved.append(moved.id)
        else:
            inserts.append({**facts, "path": file.path, "folder_id": folder_id, "status": PhotoStatus.NEW,
                            "added_at": now})  # fmt: skip
    if inserts:
        for part in chunks(inserts):
            ids = session.execute(sa.insert(Photo).returning(Photo.id, sort_by_parameter_order=True), part)
            report.new.extend(ids.scalars())
    return report


def _missing_with_hash(session: Session, content_hash: str | None) -> sa.Row | None:
    if not content_hash:
        return None
    return session.execute(
        sa.select(Photo.id, Photo.tagged_at)
        .where(Photo.content_hash == content_hash, Photo.status == PhotoStatus.MISSING)
        .order_by(Photo.id)
        .limit(1)
    ).one_or_none()


def mark_missing(session: Session, photo_ids: Iterable[int]) -> int:
    """The files are gone; keep the rows (and their tags) in case they come back or turn up moved."""
    changed = 0
    for part in chunks(list(photo_ids)):
        changed += session.execute(
            sa.update(Photo).where(Photo.id.in_(part)).values(status=PhotoStatus.MISSING)
        ).rowcount
    return changed


def delete_photos(session: Session, photo_ids: Iterable[int]) -> int:
    deleted = 0
    for part in chunks(list(photo_ids)):
        deleted += session.execute(sa.delete(Photo).where(Photo.id.in_(part))).rowcount
    return deleted


def mark_tagged(
    session: Session,
    photo_id: int,
    model_versions: dict[str, str] | None,
    *,
    width: int | None = None,
    height: int | None = None,
) -> None:
    values: dict[str, object] = {
        "status": PhotoStatus.TAGGED, "tagged_at": utcnow(), "error": None, "model_versions": model_versions,
    }  # fmt: skip
    if width is not None and height is not None:
        values.update(width=width, height=height)
    if session.execute(sa.update(Photo).where(Photo.id == photo_id).values(**values)).rowcount == 0:
        raise NotFoundError(f"There is no photo with id {photo_id} in the library.")


def mark_error(session: Session, photo_id: int, reason: str) -> None:
    values = {"status": PhotoStatus.ERROR, "error": reason}
    if session.execute(sa.update(Photo).where(Photo.id == photo_id).values(**values)).rowcount == 0:
        raise NotFoundError(f"There is no photo with id {photo_id} in the library.")


# -- features ------------------------------------------------------------------------------------------------


def save_features(session: Session, photo_id: int, backbone_version: str, vector: np.ndarray) -> None:
    """Store one photo's backbone features (replacing older ones from the same backbone version)."""
    import numpy as np  # numpy stays out of the import path of the CLI's quick commands

    array = np.ascontiguousarray(vector, dtype="<f4").reshape(-1)
    if not np.isfinite(array).all():
        raise ValueError(f"features of photo {photo_id} contain NaN or infinity; not storing them")
    require_photos(session, [photo_id])
    session.execute(
        sa.delete(Feature).where(Feature.photo_id == photo_id, Feature.backbone_version == backbone_version)
    )
    session.execute(
        sa.insert(Feature).values(
            photo_id=photo_id, backbone_version=backbone_version, dim=array.size, vector=array.tobytes(),
            created_at=utcnow(),
        )
    )  # fmt: skip


def load_features(session: Session, photo_ids: Iterable[int], backbone_version: str) -> dict[int, np.ndarray]:
    """``{photo_id: float32 vector}`` for the photos that have features from this backbone version."""
    import numpy as np

    found: dict[int, np.ndarray] = {}
    for part in chunks(list(photo_ids)):
        rows = session.execute(
            sa.select(Feature.photo_id, Feature.dim, Feature.vector).where(
                Feature.photo_id.in_(part), Feature.backbone_version == backbone_version
            )
        )
        for photo_id, dim, blob in rows:
            array = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            if array.size != dim:
                raise ValueError(f"stored features of photo {photo_id} have {array.size} values, expected {dim}")
            found[photo_id] = array
    return found


def photos_with_features(session: Session, backbone_version: str) -> list[int]:
    query = sa.select(Feature.photo_id).where(Feature.backbone_version == backbone_version).order_by(Feature.photo_id)
    return list(session.execute(query).scalars())


# -- installed models ----------------------------------------------------------------------------------------


def set_installed_model(session: Session, name: str, version: str) -> None:
    row = session.execute(sa.select(InstalledModel).where(InstalledModel.name == name)).scalar_one_or_none()
    if row is None:
        session.add(InstalledModel(name=name, version=version, installed_at=utcnow()))
    elif row.version != version:
        row.version, row.installed_at = version, utcnow()


def installed_models(session: Session) -> dict[str, InstalledModelInfo]:
    rows = session.execute(sa.select(InstalledModel).order_by(InstalledModel.name)).scalars()
    return {row.name: InstalledModelInfo(row.name, row.version, row.installed_at) for row in rows}
