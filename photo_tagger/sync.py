"""Keeping the library in step with its folders while the app runs: watcher changes -> scans -> tag jobs.

The watcher says what changed; this module says what that means for the library. A move is recorded as "the old
path is missing" followed by a scan of the new path, which finds the missing photo again by content hash, so the
photo keeps its tags and decisions under its new name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from photo_tagger.library import Library
from photo_tagger.watcher import FolderChanges, FolderWatcher

log = logging.getLogger(__name__)


def apply_changes(library: Library, changes: FolderChanges) -> dict[str, int]:
    """Record one batch of watcher changes; returns counts for a status line."""
    if changes.overflow or changes.deleted_dirs:
        # Events were lost or a whole directory went: a rescan is the only sure answer, and the scanner already
        # refuses to mark a whole vanished folder missing.
        reports = library.scan()
        return {"rescanned": sum(r.seen for r in reports), "queued": sum(r.queued for r in reports)}
    missing = library.mark_missing([*changes.deleted, *(src for src, _ in changes.moved)])
    reports = library.scan_paths([*changes.changed, *(dst for _, dst in changes.moved)])
    return {
        "changed": sum(r.new + r.changed for r in reports),
        "moved": sum(r.moved for r in reports),
        "missing": missing - sum(r.moved for r in reports),
        "queued": sum(r.queued for r in reports),
    }


def watch_library(library: Library, on_applied: Callable[[dict[str, int]], None] | None = None,
                  **watcher_options) -> FolderWatcher:  # noqa: ANN003
    """A started watcher on every watched folder; its first act is a reconciliation scan of the whole library."""

    def on_changes(changes: FolderChanges) -> None:
        counts = apply_changes(library, changes)
        if on_applied:
            on_applied(counts)

    def reconcile() -> None:
        reports = library.scan()
        if on_applied:
            on_applied({"rescanned": sum(r.seen for r in reports), "queued": sum(r.queued for r in reports)})

    folders = [folder.path for folder in library.folders() if folder.watched]
    watcher = FolderWatcher(folders, on_changes, on_start=reconcile, **watcher_options)
    watcher.start()
    return watcher
