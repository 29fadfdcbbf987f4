"""The grid's thumbnails in memory: a ``QPixmapCache`` keyed by content hash, filled by the thumbnails pool.

:meth:`Thumbnails.pixmap` is what the grid model's ``data()`` calls, on the GUI thread, for every visible cell on
every paint. It only looks in memory: on a miss it queues a load and returns None (the delegate draws a
placeholder), and :attr:`Thumbnails.loaded` says when to repaint. Keys are content hashes, so a photo that moved
keeps its thumbnail and a photo that changed gets a new one.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPixmap, QPixmapCache

from photo_tagger.gui.images import Thumbnail, load_thumbnail
from photo_tagger.gui.tasks import Tasks
from photo_tagger.library import Library

CACHE_LIMIT_KB = 96 * 1024  # about 500 thumbnails of 256 x 192


class Thumbnails(QObject):
    loaded = Signal(int)  # a photo id whose thumbnail is now in memory, or known to be unavailable

    def __init__(self, library: Library, tasks: Tasks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self._keys: dict[int, str] = {}  # photo id -> cache key, learned from the loads (strings only: small)
        self._pending: set[int] = set()
        self._failed: dict[int, str] = {}
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), CACHE_LIMIT_KB))

    def pixmap(self, photo_id: int) -> QPixmap | None:
        """The thumbnail if it is in memory; else None, and a load is queued. Never reads a file."""
        key = self._keys.get(photo_id)
        if key is not None:
            found = QPixmapCache.find(key)
            if found is not None and not found.isNull():
                return found
        if photo_id not in self._pending and photo_id not in self._failed:
            self._pending.add(photo_id)
            self.tasks.run("thumbnails", partial(load_thumbnail, self.library, photo_id), self._arrived)
        return None

    def failure(self, photo_id: int) -> str | None:
        """Why the photo has no thumbnail (unreadable, gone), or None while it may still get one."""
        return self._failed.get(photo_id)

    def pending(self) -> int:
        return len(self._pending)

    def cancel_pending(self) -> None:
        """Forget queued loads (after a scroll or a new search); cells still on screen ask again when painted."""
        self.tasks.cancel_pending("thumbnails")
        self._pending.clear()

    def forget(self, photo_id: int) -> None:
        """Load this photo's thumbnail again next time (it was re-tagged, or its file came back)."""
        self._failed.pop(photo_id, None)
        self._keys.pop(photo_id, None)

    def _arrived(self, thumb: Thumbnail) -> None:
        self._pending.discard(thumb.photo_id)
        if thumb.image is None:
            self._failed[thumb.photo_id] = thumb.error or "no preview"
        else:
            self._keys[thumb.photo_id] = thumb.key
            QPixmapCache.insert(thumb.key, QPixmap.fromImage(thumb.image))
        self.loaded.emit(thumb.photo_id)
