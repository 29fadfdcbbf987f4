"""The library's tags <-> the photos' metadata: write accepted tags to sidecars, import keywords as user tags.

What is written: a photo's accepted tags (the user's own and the machine suggestions the user accepted), never
mere suggestions; tags the user rejected are taken out of the sidecar. Each written tag also gets a hierarchical
keyword (see :mod:`photo_tagger.metadata.hierarchy`), with two guards so a path is never claimed without grounds:

- a tag from the ImageNet tagger takes its table path; any other tag (the detector's "kite" is a toy, not the
  bird of the ImageNet class) takes it only when the photo's own tags include its parent, else it stays flat;
- a path stops below an ancestor the user rejected on that photo.

Every photo gets a line in the report, so no failure goes unseen: :class:`WriteReport` / :class:`ImportReport`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photo_tagger.config import Settings
from photo_tagger.metadata.hierarchy import SEPARATOR, KeywordHierarchy, default_hierarchy
from photo_tagger.metadata.keywords import read_keywords
from photo_tagger.metadata.sidecar import SidecarError, sidecar_path, write_keywords
from photo_tagger.store import PhotoInfo, PhotoStatus, PhotoTagInfo, Store, TagSource, TagState
from photo_tagger.store import decisions as store_decisions

log = logging.getLogger(__name__)


@dataclass
class WriteReport:
    """Sidecars written, already up to date, skipped (photo missing) and failed, each with the reason."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class ImportReport:
    """Tags added per photo path, and problems (an unreadable sidecar) as (path, reason)."""

    added: dict[str, list[str]] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def keyword_paths(tags: list[PhotoTagInfo], hierarchy: KeywordHierarchy) -> dict[str, str]:
    """The photo's accepted tags -> hierarchical keyword, by the rules of the module docstring.

    Example: "golden retriever" accepted from the tagger gives ``animal|pet|dog|retriever|golden retriever``; with
    "pet" rejected on the photo, ``dog|retriever|golden retriever``; the detector's "kite" on a photo with no "raptor"
    tag stays ``kite``.
    """
    present = {t.name for t in tags if t.state != TagState.REJECTED}
    rejected = {t.name for t in tags if t.state == TagState.REJECTED}
    out: dict[str, str] = {}
    for tag in tags:
        if tag.state != TagState.ACCEPTED:
            continue
        chain = [tag.name]
        for ancestor in reversed(hierarchy.path(tag.name)[:-1]):  # nearest first
            if ancestor in rejected:
                break
            if len(chain) == 1 and tag.source != TagSource.TAGGER and ancestor not in present:
                break
            chain.append(ancestor)
        out[tag.name] = SEPARATOR.join(reversed(chain))
    return out


def write_sidecars(store: Store, photo_ids: Iterable[int], settings: Settings,
                   hierarchy: KeywordHierarchy | None = None) -> WriteReport:
    """Write each photo's accepted tags to its sidecar (see :func:`photo_tagger.metadata.sidecar.write_keywords`)."""
    hierarchy = hierarchy or default_hierarchy()
    report = WriteReport()
    for photo_id in dict.fromkeys(photo_ids):
        photo = store.get_photo(photo_id)
        if photo is None:
            continue
        target = str(sidecar_path(photo.path, settings.xmp_sidecar))
        if photo.status == PhotoStatus.MISSING or not Path(photo.path).exists():
            report.skipped.append((target, "the photo is missing"))
            continue
        tags = store.photo_tags(photo.id)
        wanted = keyword_paths(tags, hierarchy)
        drop = {t.name for t in tags if t.state == TagState.REJECTED}
        try:
            changed = write_keywords(photo.path, wanted, drop, settings.xmp_sidecar)
        except SidecarError as error:
            log.warning("%s", error)
            report.failed.append((target, str(error)))
            continue
        (report.written if changed else report.unchanged).append(target)
    return report


def import_keywords(store: Store, photo_ids: Iterable[int], settings: Settings) -> ImportReport:
    """Read each photo's keywords (sidecars, embedded XMP and IPTC) and add the new ones as user tags."""
    report = ImportReport()
    for photo_id in dict.fromkeys(photo_ids):
        photo = store.get_photo(photo_id)
        if photo is not None and photo.status != PhotoStatus.MISSING:
            import_photo_keywords(store, photo, settings, report)
    return report


def import_photo_keywords(store: Store, photo: PhotoInfo, settings: Settings,
                          report: ImportReport | None = None) -> list[str]:
    """Add one photo's keywords as accepted user tags; returns the names added.

    A tag the user rejected on this photo is not brought back, and one already accepted is left as it is. Where a
    model had suggested the keyword, the suggestion is accepted and keeps its source (the store's rule for a user
    adding a suggested tag); on a photo's first tagging this runs before any suggestion exists.
    """
    found = read_keywords(photo.path, settings.xmp_sidecar)
    for problem in found.problems:
        log.warning("%s", problem)
        if report is not None:
            report.failed.append((photo.path, problem))
    if not found.names:
        return []
    with store.transaction() as session:
        decided = {t.name for t in store_decisions.photo_tags(session, photo.id) if t.state != TagState.SUGGESTED}
        added = [name for name in found.names if name not in decided]
        for name in added:
            store_decisions.add_user_tag(session, [photo.id], name)
    if added and report is not None:
        report.added[photo.path] = added
    return added
