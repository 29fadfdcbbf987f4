"""A photo's stored evidence (features + detections) and the bulk writes of a re-tag: session-level functions.

A re-tag after a model update walks the library in photo-id order, a batch at a time: it reads each photo's evidence
and current machine suggestions, lets the new models decide, and writes only what changed. These functions do the
reading and writing in a few statements per batch instead of a few per photo, which is what lets 100,000 photos be
re-tagged in seconds (``benchmarks/bench_retag.py``).

Like the other session-level modules, nothing here commits; the caller holds the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .decisions import chunks, require_photos, tag_ids
from .schema import (
    MACHINE_SOURCES,
    Detections,
    Feature,
    Photo,
    PhotoStatus,
    PhotoTag,
    Tag,
    TagSource,
    TagState,
    photo_tag_key,
    utcnow,
)

if TYPE_CHECKING:
    import numpy as np

Box = list[Any]  # [label, score, x0, y0, x1, y1]


def save_detections(session: Session, photo_id: int, detector_version: str, boxes: Sequence[Box]) -> None:
    """Store what the detector found in one photo (replacing an older row from the same detector version)."""
    require_photos(session, [photo_id])
    session.execute(
        sa.delete(Detections).where(Detections.photo_id == photo_id, Detections.detector_version == detector_version)
    )
    session.execute(
        sa.insert(Detections).values(
            photo_id=photo_id, detector_version=detector_version, boxes=[list(box) for box in boxes],
            created_at=utcnow(),
        )
    )  # fmt: skip


@dataclass
class EvidenceBatch:
    """Tagged photos in id order with what is stored about them.

    ``features[i]`` is None when photo i has no features from the backbone version asked for, ``boxes[i]`` None when
    it has no detections from the detector version asked for (or none was asked for).
    """

    photo_ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    model_versions: list[dict[str, str] | None] = field(default_factory=list)
    features: list[np.ndarray | None] = field(default_factory=list)
    boxes: list[list[Box] | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.photo_ids)


def tagged_photo_count(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).where(Photo.status == PhotoStatus.TAGGED)).scalar_one())


def id_conditions(column: sa.ColumnElement[int], photo_ids: set[int]) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses covering ``photo_ids`` (callers drop the rows of other ids): one range when the ids are dense,
    as in a re-tag of a whole library (a range scan, at most twice the rows wanted), else IN lists of a few hundred,
    so photos spread thinly over a large library do not read everything in between."""
    ids = sorted(photo_ids)
    if not ids:
        return []
    if ids[-1] - ids[0] < 2 * len(ids):
        return [column.between(ids[0], ids[-1])]
    return [column.in_(part) for part in chunks(ids)]


def tagged_photo_versions(session: Session) -> list[tuple[int, dict[str, str] | None]]:
    """(id, model versions) of every tagged photo, in id order: what a re-tag walks."""
    query = sa.select(Photo.id, Photo.model_versions).where(Photo.status == PhotoStatus.TAGGED).order_by(Photo.id)
    return [(row.id, row.model_versions) for row in session.execute(query)]


def read_evidence(session: Session, photo_ids: Sequence[int], backbone_version: str,
                  detector_version: str | None) -> EvidenceBatch:
    """The tagged photos among ``photo_ids``, in id order, with their stored evidence.

    By id, not by id range: the photos a re-tag needs may be spread thinly over a large library, and a range would
    read the evidence of every photo in between.
    """
    import numpy as np

    wanted = set(photo_ids)
    photos, vectors, stored_boxes = [], {}, {}
    detections = Detections.__table__
    for where_photo, where_feature, where_boxes in zip(
        id_conditions(Photo.id, wanted), id_conditions(Feature.photo_id, wanted),
        id_conditions(detections.c.photo_id, wanted), strict=True,
    ):
        photos += [row for row in session.execute(
            sa.select(Photo.id, Photo.path, Photo.model_versions).where(where_photo, Photo.status == PhotoStatus.TAGGED)
        ) if row.id in wanted]
        vectors.update(
            (photo_id, (dim, blob))
            for photo_id, dim, blob in session.execute(
                sa.select(Feature.photo_id, Feature.dim, Feature.vector).where(
                    where_feature, Feature.backbone_version == backbone_version
                )
            )
            if photo_id in wanted
        )
        if detector_version is not None:
            # The raw JSON text, parsed below: one json.loads per photo is cheaper than the ORM's type processing.
            stored_boxes.update(
                row for row in session.execute(
                    sa.select(detections.c.photo_id, sa.cast(detections.c.boxes, sa.Text)).where(
                        where_boxes, detections.c.detector_version == detector_version
                    )
                ) if row[0] in wanted
            )
    photos.sort(key=lambda row: row.id)
    batch = EvidenceBatch()
    for row in photos:
        batch.photo_ids.append(row.id)
        batch.paths.append(row.path)
        batch.model_versions.append(row.model_versions)
        stored = vectors.get(row.id)
        vector = None
        if stored is not None:
            dim, blob = stored
            vector = np.frombuffer(blob, dtype="<f4")
            if vector.size != dim:
                vector = None  # damaged row: the photo goes back through the CNN instead
        batch.features.append(vector)
        text = stored_boxes.get(row.id)
        batch.boxes.append(json.loads(text) if text is not None else None)
    return batch


@dataclass
class MachineTags:
    """One photo's current machine suggestions ``{name: (score, source, parent)}`` and the tags the user decided."""

    suggested: dict[str, tuple[float, TagSource, str | None]] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)


def machine_tags(session: Session, photo_ids: Sequence[int]) -> dict[int, MachineTags]:
    """Current suggestions and decided tag names for each photo in ``photo_ids`` that is still tagged in the library
    (a photo removed or queued again since its evidence was read gets no entry, so nothing is written for it)."""
    out: dict[int, MachineTags] = {}
    wanted = set(photo_ids)
    table, tags = PhotoTag.__table__, Tag.__table__
    rows = []
    for where_photo, where_tag in zip(id_conditions(Photo.id, wanted), id_conditions(table.c.photo_id, wanted),
                                      strict=True):
        # Still tagged: a photo removed, or changed on disk and queued again, since its evidence was read is skipped.
        out.update((photo_id, MachineTags()) for photo_id in session.execute(
            sa.select(Photo.id).where(where_photo, Photo.status == PhotoStatus.TAGGED)).scalars()
            if photo_id in wanted)
        # Core columns read as plain text: the ORM's enum conversion per row would cost more than the query.
        rows += session.execute(
            sa.select(table.c.photo_id, tags.c.name, sa.type_coerce(table.c.state, sa.String),
                      sa.type_coerce(table.c.source, sa.String), table.c.score, table.c.parent)
            .join(tags, tags.c.id == table.c.tag_id)
            .where(where_tag)
        ).all()
    suggested, machine = TagState.SUGGESTED.value, {source.value for source in MACHINE_SOURCES}
    for photo_id, name, state, source, score, parent in rows:
        entry = out.get(photo_id)
        if entry is None:
            continue
        if state == suggested and source in machine:
            entry.suggested[name] = (score, source, parent)
        else:
            entry.decided.add(name)
    return out


@dataclass
class SuggestionWrites:
    """What a re-tag writes for a batch of photos: rows to add, rescore and remove, and each photo's new versions."""

    # (photo id, tag name, score, source, GloVe parent)
    added: list[tuple[int, str, float, str, str | None]] = field(default_factory=list)
    rescored: list[tuple[int, str, float, str, str | None]] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)
    versions: dict[int, dict[str, str]] = field(default_factory=dict)


def write_suggestions(session: Session, writes: SuggestionWrites, model_version: str) -> None:
    """Apply a batch of re-tag writes. Only rows still ``suggested`` are changed or removed, and an added row never
    replaces an existing one, so a decision the user made since the batch was read survives."""
    names = {name for _, name, *_ in writes.added} | {name for _, name, *_ in writes.rescored}
    names |= {name for _, name in writes.removed}
    ids = tag_ids(session, names, create=True) if names else {}
    table = PhotoTag.__table__
    if writes.removed:
        session.execute(
            sa.delete(table).where(table.c.id == sa.bindparam("key"), table.c.state == TagState.SUGGESTED.value),
            [{"key": photo_tag_key(photo_id, ids[name])} for photo_id, name in writes.removed],
        )
    if writes.rescored:
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("key"), table.c.state == TagState.SUGGESTED.value)
            .values(score=sa.bindparam("new_score"), source=sa.bindparam("new_source"),
                    parent=sa.bindparam("new_parent"), model_version=model_version),
            [{"key": photo_tag_key(p, ids[name]), "new_score": score, "new_source": source, "new_parent": parent}
             for p, name, score, source, parent in writes.rescored],
        )  # fmt: skip
    if writes.added:
        session.execute(
            sa.insert(table).prefix_with("OR IGNORE", dialect="sqlite"),
            [{"id": photo_tag_key(p, ids[name]), "photo_id": p, "tag_id": ids[name], "source": source,
              "score": score, "state": TagState.SUGGESTED.value, "model_version": model_version, "parent": parent}
             for p, name, score, source, parent in writes.added],
        )  # fmt: skip
    if writes.versions:
        photos = Photo.__table__
        session.execute(
            sa.update(photos).where(photos.c.id == sa.bindparam("photo")).values(model_versions=sa.bindparam("mv")),
            [{"photo": photo_id, "mv": versions} for photo_id, versions in writes.versions.items()],
        )
