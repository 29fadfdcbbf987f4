"""The grid's model: one row per search result, fetched page by page off the GUI thread as the view needs them.

A search's first page arrives with the total, and the model then has ``total`` rows at once, so the scroll bar
covers the whole result (100,000 photos included) and dragging it anywhere works. Rows whose page has not
arrived yet are blank: the first ``data()`` call on one queues that page on the query pool, and the rows are
announced changed when it lands. The model therefore holds only the pages that were looked at (200 hits, a few
kilobytes each), and ``data()`` never reads the database or a file: thumbnails come from
:class:`~photo_tagger.gui.thumbs.Thumbnails`, which answers from memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal

from photo_tagger.gui.tasks import Tasks
from photo_tagger.gui.thumbs import Thumbnails
from photo_tagger.library import Library
from photo_tagger.store import SearchHit, SearchResult

PAGE_SIZE = 200

PHOTO_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
FAILURE_ROLE = Qt.ItemDataRole.UserRole + 3  # why a photo has no thumbnail
MARK_ROLE = Qt.ItemDataRole.UserRole + 4  # "accepted" / "rejected" while reviewing

Index = QModelIndex | QPersistentModelIndex


class PhotoGridModel(QAbstractListModel):
    searched = Signal(object)  # the SearchResult of a new query's first page (for the search bar)
    search_failed = Signal(object)  # the exception (a QueryError for bad input)

    def __init__(self, library: Library, tasks: Tasks, thumbnails: Thumbnails, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self.thumbnails = thumbnails
        self.query = ""
        self.refreshing = False  # True while a reset comes from refresh() (the view keeps its place)
        self._serial = 0  # of the latest search asked for
        self._generation = 0  # of the rows shown; a page from an older generation is dropped
        self._total = 0
        self._pages: dict[int, list[SearchHit]] = {}
        self._requested: set[int] = set()
        self._rows: dict[int, int] = {}  # photo id -> row, for the pages that arrived
        self._marks: dict[int, str] = {}
        self._changed: set[int] = set()
        self._flush = QTimer(self, singleShot=True, interval=15)
        self._flush.timeout.connect(self._emit_changed)
        thumbnails.loaded.connect(self._thumbnail_loaded)

    # -- searching -------------------------------------------------------------------------------------------------

    def search(self, query: str) -> None:
        """Run ``query`` on the query pool; the rows change when its first page arrives."""
        self._start(query, refresh=False)

    def refresh(self) -> None:
        """Run the current query again (the library changed); the view keeps its selection and place."""
        self._start(self.query, refresh=True)

    def _start(self, query: str, refresh: bool) -> None:
        self._serial += 1
        fetch = partial(self.library.search, query, limit=PAGE_SIZE)
        self.tasks.run("query", fetch, partial(self._first_page, self._serial, query, refresh),
                       partial(self._failed, self._serial), priority=1)

    def _first_page(self, serial: int, query: str, refresh: bool, result: SearchResult) -> None:
        if serial != self._serial:
            return  # a newer search is on its way
        if refresh and query == self.query and result.total == self._total and result.hits == self._pages.get(0):
            return  # nothing visible changed; later pages reload when next looked at
        self.refreshing = refresh
        self.beginResetModel()
        self._generation = serial
        self.query = query
        self._total = result.total
        self._pages = {0: result.hits}
        self._requested = {0}
        self._rows = {hit.photo_id: row for row, hit in enumerate(result.hits)}
        if not refresh:
            self._marks.clear()
            self.thumbnails.cancel_pending()
        self.endResetModel()
        self.refreshing = False
        if not refresh:
            self.searched.emit(result)

    def _failed(self, serial: int, error: Exception) -> None:
        if serial == self._serial:
            self.search_failed.emit(error)

    # -- Qt model --------------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._total

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        hit = self.hit(index.row())
        if hit is None:
            return None
        if role == PHOTO_ID_ROLE:
            return hit.photo_id
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnails.pixmap(hit.photo_id)
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(hit.path)
        if role in (PATH_ROLE, Qt.ItemDataRole.ToolTipRole):
            return hit.path
        if role == FAILURE_ROLE:
            return self.thumbnails.failure(hit.photo_id)
        if role == MARK_ROLE:
            return self._marks.get(hit.photo_id)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    # -- rows ------------------------------------------------------------------------------------------------------

    def hit(self, row: int) -> SearchHit | None:
        """The search hit of a row, or None while its page is on its way (which asks for the page)."""
        if not 0 <= row < self._total:
            return None
        page, offset = divmod(row, PAGE_SIZE)
        hits = self._pages.get(page)
        if hits is None:
            self._request_page(page)
            return None
        return hits[offset] if offset < len(hits) else None

    def row_of(self, photo_id: int) -> int | None:
        return self._rows.get(photo_id)

    def has_searched(self) -> bool:
        """The first search has come back: the rows are the result of a query, not the empty start."""
        return self._generation != 0

    def loaded_pages(self) -> int:
        return len(self._pages)

    def hits_resolver(self, rows: Iterable[int]) -> Callable[[], list[SearchHit]]:
        """A function for a pool thread that returns the hits of ``rows``, fetching the pages not loaded yet
        (a shift-click range can span pages nobody scrolled through)."""
        wanted = sorted(set(rows))
        pages = dict(self._pages)  # a snapshot: the lists themselves are never changed
        query, library = self.query, self.library

        def resolve() -> list[SearchHit]:
            hits: list[SearchHit] = []
            for row in wanted:
                page, offset = divmod(row, PAGE_SIZE)
                if page not in pages:
                    pages[page] = library.search(query, limit=PAGE_SIZE, offset=page * PAGE_SIZE).hits
                if offset < len(pages[page]):
                    hits.append(pages[page][offset])
            return hits

        return resolve

    def set_mark(self, photo_id: int, mark: str | None) -> None:
        if mark is None:
            self._marks.pop(photo_id, None)
        else:
            self._marks[photo_id] = mark
        self._row_changed(photo_id)

    # -- internals -------------------------------------------------------------------------------------------------

    def _request_page(self, page: int) -> None:
        if page in self._requested:
            return
        self._requested.add(page)
        fetch = partial(self.library.search, self.query, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        self.tasks.run("query", fetch, partial(self._page_arrived, self._generation, page),
                       partial(self._page_failed, self._generation, page))

    def _page_arrived(self, generation: int, page: int, result: SearchResult) -> None:
        if generation != self._generation:
            return
        self._pages[page] = result.hits
        first = page * PAGE_SIZE
        for offset, hit in enumerate(result.hits):
            self._rows[hit.photo_id] = first + offset
        last = min(first + PAGE_SIZE, self._total) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first), self.index(last))

    def _page_failed(self, generation: int, page: int, _error: Exception) -> None:
        if generation == self._generation:
            self._requested.discard(page)  # asked again at the next paint

    def _thumbnail_loaded(self, photo_id: int) -> None:
        self._row_changed(photo_id)

    def _row_changed(self, photo_id: int) -> None:
        row = self._rows.get(photo_id)
        if row is not None:
            self._changed.add(row)
            if not self._flush.isActive():
                self._flush.start()

    def _emit_changed(self) -> None:
        rows, self._changed = sorted(self._changed), set()
        # One signal per run of adjacent rows: a page of thumbnails arriving costs a few repaints, not 200.
        start = previous = None
        for row in [*rows, None]:
            if start is not None and (row is None or row != previous + 1):
                self.dataChanged.emit(self.index(start), self.index(previous))
                start = None
            if row is not None and start is None:
                start = row
            previous = row
