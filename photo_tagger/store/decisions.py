"""Tags on photos: machine suggestions and the user's decisions about them.

The one rule: a model never overwrites a user. :func:`set_suggestions` replaces only rows in state
``suggested``; accepted and rejected rows (and user tags, which are accepted rows with source ``user``) stay
as they are, and a tag the user rejected on a photo is never suggested for that photo again -- its rejected
row keeps the (photo, tag) pair occupied.

Each function takes an open session and does not commit; :class:`photo_tagger.store.Store` wraps each in one
short transaction, and the worker may combine several (suggestions + features + status) in one.

Accepted machine suggestions keep their source, so the library can later tell the models' true positives
(accepted machine tags) from their false negatives (tags only the user added) and false positives (rejected
ones).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .engine import NotFoundError
from .records import PhotoTagInfo, SuggestionChange
from .schema import MACHINE_SOURCES, Photo, PhotoTag, Tag, TagSource, TagState, normalise_tag, utcnow

# SQLite's default limit on bound parameters was 999 before 3.32; stay well below it in IN lists.
CHUNK = 500

# A suggestion as the pipeline produces it: ``(name, score, source, parent)``, or any object with those
# attributes (``photo_tagger.pipeline.types.Tag`` and ``MergedTag`` fit).
Suggestion = tuple[str, float, str, str | None] | Any


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tag_name(name: str) -> str:
    """``normalise_tag(name)``, refusing names that normalise to nothing."""
    if not isinstance(name, str):
        raise TypeError(f"a tag name must be a string, not {type(name).__name__}")
    normalised = normalise_tag(name)
    if not normalised:
        raise ValueError(f"{name!r} is not a tag name: it is empty after trimming whitespace")
    return normalised


def tag_ids(session: Session, names: Iterable[str], *, create: bool) -> dict[str, int]:
    """Ids of already normalised tag names; with ``create``, missing names are inserted first."""
    wanted = sorted(set(names))
    found: dict[str, int] = {}
    for part in chunks(wanted):
        found.update(session.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(part))).all())
    missing = [name for name in wanted if name not in found]
    if create and missing:
        session.execute(sa.insert(Tag), [{"name": name} for name in missing])
        for part in chunks(missing):
            found.update(session.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(part))).all())
    return found


def require_photos(session: Session, photo_ids: Iterable[int]) -> list[int]:
    """The ids, deduplicated in order; NotFoundError naming the first id that is not in the library."""
    ids = list(dict.fromkeys(int(photo_id) for photo_id in photo_ids))
    present: set[int] = set()
    for part in chunks(ids):
        present.update(session.execute(sa.select(Photo.id).where(Photo.id.in_(part))).scalars())
    for photo_id in ids:
        if photo_id not in present:
            raise NotFoundError(f"There is no photo with id {photo_id} in the library.")
    return ids


def _unpack(item: Suggestion) -> tuple[str, float, TagSource, str | None]:
    if isinstance(item, tuple):
        name, score, source, *rest = item
        parent = rest[0] if rest else None
    else:
        name, score, source, parent = item.name, item.score, item.source, getattr(item, "parent", None)
    source = TagSource(source)
    if source not in MACHINE_SOURCES:
        raise ValueError(f"{name!r}: a suggestion comes from tagger, detector or glove, not {source.value!r}")
    score = float(score)
    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise ValueError(f"{name!r}: score {score!r} is not in [0, 1]")
    return tag_name(name), score, source, (normalise_tag(parent) or None) if parent else None


def set_suggestions(
    session: Session, photo_id: int, tags: Iterable[Suggestion], model_version: str | None
) -> SuggestionChange:
    """Replace the machine suggestions of one photo with ``tags``, leaving every user decision alone.

    Worked example: the photo has ``dog`` accepted, ``cat`` rejected, ``grass`` suggested (0.4) and ``sky``
    suggested. New suggestions ``dog 0.9, cat 0.8, grass 0.6, tree 0.5`` give: ``dog`` still accepted (its row
    is untouched), ``cat`` still rejected (not suggested again), ``grass`` rescored to 0.6, ``tree`` added,
    ``sky`` removed. A name suggested twice (say by the tagger and the detector) keeps its best score.
    """
    require_photos(session, [photo_id])
    wanted: dict[str, tuple[float, TagSource, str | None]] = {}
    for item in tags:
        name, score, source, parent = _unpack(item)
        if name not in wanted or score > wanted[name][0]:
            wanted[name] = (score, source, parent)
    ids = tag_ids(session, wanted, create=True)
    existing = {
        row.name: row
        for row in session.execute(
            sa.select(Tag.name, PhotoTag.tag_id, PhotoTag.state, PhotoTag.source, PhotoTag.score)
            .add_columns(PhotoTag.model_version, PhotoTag.parent)
            .join(Tag, Tag.id == PhotoTag.tag_id)
            .where(PhotoTag.photo_id == photo_id)
        )
    }
    change = SuggestionChange(photo_id)
    stale = [row for name, row in existing.items() if row.state == TagState.SUGGESTED and name not in wanted]
    if stale:
        session.execute(
            sa.delete(PhotoTag).where(
                PhotoTag.photo_id == photo_id,
                PhotoTag.state == TagState.SUGGESTED,
                PhotoTag.tag_id.in_([row.tag_id for row in stale]),
            )
        )
        change.removed.extend(sorted(row.name for row in stale))
    inserts = []
    for name in sorted(wanted):
        score, source, parent = wanted[name]
        row = existing.get(name)
        if row is None:
            inserts.append(
                {"photo_id": photo_id, "tag_id": ids[name], "source": source, "score": score,
                 "state": TagState.SUGGESTED, "model_version": model_version, "parent": parent}
            )  # fmt: skip
            change.added.append(name)
        elif row.state != TagState.SUGGESTED:
            change.kept_decisions.append(name)
        elif (row.score, row.source, row.model_version, row.parent) != (score, source, model_version, parent):
            session.execute(
                sa.update(PhotoTag)
                .where(PhotoTag.photo_id == photo_id, PhotoTag.tag_id == row.tag_id)
                .values(score=score, source=source, model_version=model_version, parent=parent)
            )
            change.rescored.append(name)
    if inserts:
        session.execute(sa.insert(PhotoTag), inserts)
    return change


def _decide(session: Session, photo_ids: Iterable[int], tag: str, state: TagState) -> int:
    name = tag_name(tag)
    ids = require_photos(session, photo_ids)
    if not ids:
        return 0
    tag_id = tag_ids(session, [name], create=True)[name]
    now = utcnow()
    changed = 0
    for part in chunks(ids):
        have = set(
            session.execute(
                sa.select(PhotoTag.photo_id).where(PhotoTag.tag_id == tag_id, PhotoTag.photo_id.in_(part))
            ).scalars()
        )
        if have:
            result = session.execute(
                sa.update(PhotoTag)
                .where(PhotoTag.tag_id == tag_id, PhotoTag.photo_id.in_(have), PhotoTag.state != state)
                .values(state=state, decided_at=now)
            )
            changed += result.rowcount
        missing = [photo_id for photo_id in part if photo_id not in have]
        if missing:
            score = 1.0 if state == TagState.ACCEPTED else 0.0
            session.execute(
                sa.insert(PhotoTag),
                [{"photo_id": photo_id, "tag_id": tag_id, "source": TagSource.USER, "score": score,
                  "state": state, "decided_at": now} for photo_id in missing],
            )  # fmt: skip
            changed += len(missing)
    return changed


def accept(session: Session, photo_ids: Iterable[int], tag: str) -> int:
    """Mark ``tag`` right on these photos; where no model suggested it, it becomes a user tag.

    Returns the number of rows changed, as do the functions below.
    """
    return _decide(session, photo_ids, tag, TagState.ACCEPTED)


def add_user_tag(session: Session, photo_ids: Iterable[int], tag: str) -> int:
    """Tag these photos by hand. Where a model already suggested the tag, that suggestion is accepted instead,
    so the row keeps saying which model found it (see the module docstring)."""
    return _decide(session, photo_ids, tag, TagState.ACCEPTED)


def reject(session: Session, photo_ids: Iterable[int], tag: str) -> int:
    """Mark ``tag`` wrong on these photos; no model will suggest it for them again, even if none has."""
    return _decide(session, photo_ids, tag, TagState.REJECTED)


def remove_tag(session: Session, photo_ids: Iterable[int], tag: str) -> int:
    """Forget ``tag`` on these photos whatever its state: a user tag goes, a decision is undone.

    A model may suggest the tag again at the next re-tag; :func:`reject` is the way to say "never".
    """
    name = tag_name(tag)
    ids = require_photos(session, photo_ids)
    found = tag_ids(session, [name], create=False)
    if name not in found:
        return 0
    removed = 0
    for part in chunks(ids):
        result = session.execute(sa.delete(PhotoTag).where(PhotoTag.tag_id == found[name], PhotoTag.photo_id.in_(part)))
        removed += result.rowcount
    return removed


def photo_tags(session: Session, photo_id: int) -> list[PhotoTagInfo]:
    """Every tag row of one photo, best first (accepted, then suggested by score, then rejected)."""
    rows = session.execute(
        sa.select(Tag.name, PhotoTag.source, PhotoTag.score, PhotoTag.state)
        .add_columns(PhotoTag.model_version, PhotoTag.parent, PhotoTag.decided_at)
        .join(Tag, Tag.id == PhotoTag.tag_id)
        .where(PhotoTag.photo_id == photo_id)
    ).all()
    rank = {TagState.ACCEPTED: 0, TagState.SUGGESTED: 1, TagState.REJECTED: 2}
    infos = [PhotoTagInfo(*row) for row in rows]
    return sorted(infos, key=lambda info: (rank[info.state], -info.score, info.name))


def tag_names(session: Session, prefix: str = "", limit: int = 20) -> list[str]:
    """Tag names starting with ``prefix`` (normalised), alphabetically: for a search box's completion."""
    start = normalise_tag(prefix)
    query = sa.select(Tag.name).order_by(Tag.name).limit(limit)
    if start:
        # A range on the unique index rather than LIKE, which is case-insensitive in SQLite and cannot use it.
        query = query.where(Tag.name >= start, Tag.name < start + "\U0010ffff")
    return list(session.execute(query).scalars())


def decided_tags(session: Session) -> list[tuple[int, str, TagState, TagSource]]:
    """Every decision in the library as (photo id, tag, state, source): accepted and rejected suggestions and the
    user's own tags. What a personal head learns from; machine suggestions nobody looked at are not in it."""
    rows = session.execute(
        sa.select(PhotoTag.photo_id, Tag.name, PhotoTag.state, PhotoTag.source)
        .join(Tag, Tag.id == PhotoTag.tag_id)
        .where(PhotoTag.state != TagState.SUGGESTED)
        .order_by(PhotoTag.photo_id, Tag.name)
    )
    return [tuple(row) for row in rows]


def suggested_photos(session: Session, names: Iterable[str]) -> dict[str, set[int]]:
    """For each tag name, the photos where it is a machine suggestion nobody has decided on yet."""
    out: dict[str, set[int]] = {name: set() for name in names}
    if not out:
        return out
    rows = session.execute(
        sa.select(Tag.name, PhotoTag.photo_id)
        .join(Tag, Tag.id == PhotoTag.tag_id)
        .where(Tag.name.in_(list(out)), PhotoTag.state == TagState.SUGGESTED)
    )
    for name, photo_id in rows:
        out[name].add(photo_id)
    return out

