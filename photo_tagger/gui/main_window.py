"""The main window: folders on the left, search and the grid in the middle, the selected photo on the right.

It wires the parts together and owns nothing heavy itself: the database and the disk are only ever read or
written from :class:`~photo_tagger.gui.tasks.Tasks` pools and the background worker, and every result comes back
to a method here on the GUI thread. Serial numbers drop answers that arrive after the user has moved on.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from photo_tagger.config import Settings
from photo_tagger.gui import decisions, icons
from photo_tagger.gui.background import Background
from photo_tagger.gui.detail import MAX_DETAIL_PHOTOS, DetailData, DetailPanel, load_detail
from photo_tagger.gui.detections import Detections
from photo_tagger.gui.failed import FailedPanel
from photo_tagger.gui.grid_model import PhotoGridModel
from photo_tagger.gui.grid_view import DEFAULT_TILE, TILE_SIZES, PhotoGrid
from photo_tagger.gui.images import Preview, load_preview
from photo_tagger.gui.menus import build_menus
from photo_tagger.gui.progress import ProgressPanel
from photo_tagger.gui.review import ReviewBanner, Reviewer
from photo_tagger.gui.search_bar import SearchBar
from photo_tagger.gui.sidebar import ALL_PHOTOS, Overview, Sidebar, load_overview
from photo_tagger.gui.tag_list import TagRow
from photo_tagger.gui.tasks import Tasks
from photo_tagger.gui.thumbs import Thumbnails
from photo_tagger.library import Library
from photo_tagger.store.query import FolderPrefix, format_query
from photo_tagger.worker import WorkerProgress

log = logging.getLogger(__name__)

REFRESH_MS = 1000  # after a decision or a folder change, how soon the views catch up
PROGRESS_REFRESH_MS = 3000  # while the worker tags: a 100,000-row result is not re-laid out every second


@dataclass
class _Loading:
    """Serial numbers of the latest request of each kind, and whether its answer is still out."""

    detail: int = 0
    detail_pending: bool = False
    preview_pending: bool = False
    waiting_for_rows: bool = False  # the selection is on rows whose page has not arrived
    requested: tuple[int, ...] = ()  # the photos of the latest detail request
    shown: tuple[int, ...] = ()  # the photos the detail panel shows


class MainWindow(QMainWindow):
    reopen_requested = Signal(str)  # a library file: the app opens it in a new window

    def __init__(self, library: Library, qsettings: QSettings, *, tagger: Any = None, background: bool = True,
                 watch: bool = True, restore: bool = True) -> None:
        super().__init__()
        self.library = library
        self.settings: Settings = library.settings
        self.qsettings = qsettings
        self.restore = restore
        self.tasks = Tasks()
        self._completion_prefix = ""
        self.detections = Detections(self.settings)
        self.loading = _Loading()
        self._preview: Preview | None = None  # the photo the detail panel shows
        self.setWindowTitle(f"photo-tagger \u2014 {os.path.basename(str(self.settings.library_path))}")
        self.setWindowIcon(icons.icon("app", "#4f8cf7"))
        self._build()
        self.actions_by_name = build_menus(self)
        self.background: Background | None = None
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._detail_timer = QTimer(self, singleShot=True, interval=30)
        self._detail_timer.timeout.connect(self.load_detail)
        self._restore_settings()
        # The sidebar's counts wait for the first page: on a big library they cost a few hundred milliseconds of
        # the query pool, which the grid's first page should not share.
        self.model.searched.connect(lambda _result: self.reload_overview(), Qt.ConnectionType.SingleShotConnection)
        if background:
            self._start_background(tagger, watch)
        else:
            self.progress.set_enabled_pause(False)

    # -- layout ----------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.thumbnails = Thumbnails(self.library, self.tasks, self)
        self.model = PhotoGridModel(self.library, self.tasks, self.thumbnails, self)
        self.grid = PhotoGrid(self)
        self.grid.setModel(self.model)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.selectionModel().currentChanged.connect(self._selection_changed)
        self.model.dataChanged.connect(self._rows_arrived)
        self.search = SearchBar(self)
        self.search.query_changed.connect(self.model.search)
        self.model.searched.connect(self.search.show_result)
        self.model.search_failed.connect(self.search.show_error)
        self.banner = ReviewBanner(self)
        self.reviewer = Reviewer(self.grid, self.search, self.banner, self._decide_on_paths)
        self.sidebar = Sidebar(self)
        self.sidebar.folder_chosen.connect(self._folder_chosen)
        self.sidebar.add_clicked.connect(self.choose_folder)
        self.sidebar.remove_clicked.connect(self.remove_folder)
        self.sidebar.rescan_clicked.connect(self.rescan)
        self.sidebar.failed_clicked.connect(self.show_failed)
        self.detail = DetailPanel(self)
        self.detail.decision_requested.connect(self.decide)
        self.detail.add_requested.connect(lambda name: self.add_tag(name))
        self.detail.review_requested.connect(self.reviewer.start)
        self.detail.completion_wanted.connect(self._complete)
        center = QWidget(self)
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(12, 12, 12, 0)
        center_layout.setSpacing(8)
        center_layout.addWidget(self.search)
        center_layout.addWidget(self.banner)
        center_layout.addWidget(self.grid, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setHandleWidth(1)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 690, 360])
        self.setCentralWidget(self.splitter)
        self.failed = FailedPanel(self)
        self.failed.photo_chosen.connect(lambda path: self.search.set_text(format_query(FolderPrefix(path))))
        self.failed_dock = QDockWidget("Failed photos", self)
        self.failed_dock.setObjectName("failedDock")
        self.failed_dock.setWidget(self.failed)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.failed_dock)
        self.failed_dock.hide()
        self.progress = ProgressPanel(self)
        self.progress.pause_toggled.connect(self._pause_toggled)
        self.progress.failed_clicked.connect(self.show_failed)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().setSizeGripEnabled(False)
        home = os.path.expanduser("~")
        where = str(self.settings.library_path)
        self.library_label = QLabel("~" + where[len(home):] if where.startswith(home + os.sep) else where, self)
        self.library_label.setToolTip(where)
        self.library_label.setProperty("role", "dim")
        self.statusBar().addWidget(self.library_label)

    # -- search and folders ----------------------------------------------------------------------------------------

    def _folder_chosen(self, path: str) -> None:
        self.search.set_text("" if path == ALL_PHOTOS else format_query(FolderPrefix(path.rstrip(os.sep) + os.sep)))

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder to the library", os.path.expanduser("~"))
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> None:
        self.statusBar().showMessage(f"Adding {path}\u2026")

        def done(report: Any) -> None:
            self.statusBar().showMessage(f"Added {path}: {report.queued:,} photos to tag", 8000)
            if self.background is not None:
                self.background.folder_added(path)
            self.refresh()

        self.tasks.run("writes", partial(self.library.add_folder, path), done, self._write_failed)

    def remove_folder(self, path: str) -> None:
        answer = QMessageBox.question(
            self, "Remove folder",
            f"Remove {path} from the library?\n\nIts photos' tags and decisions are forgotten; the files on disk "
            "are not touched.",
        )  # fmt: skip
        if answer != QMessageBox.StandardButton.Yes:
            return
        if self.background is not None:
            self.background.folder_removed(path)

        def done(removed: int) -> None:
            self.statusBar().showMessage(f"Removed {path} ({removed:,} photos)", 8000)
            self.refresh()

        self.tasks.run("writes", partial(self.library.remove_folder, path), done, self._write_failed)

    def rescan(self) -> None:
        self.statusBar().showMessage("Rescanning folders\u2026")

        def done(reports: list) -> None:
            queued = sum(report.queued for report in reports)
            self.statusBar().showMessage(f"Rescanned: {queued:,} photos to tag", 8000)
            self.refresh()

        self.tasks.run("writes", self.library.scan, done, self._write_failed)

    def reload_overview(self) -> None:
        self.tasks.run("query", partial(load_overview, self.library), self._overview_loaded)

    def _overview_loaded(self, overview: Overview) -> None:
        self.sidebar.set_overview(overview)
        self.failed.set_errors(overview.status.errors)
        self.progress.set_failed(len(overview.status.errors))
        if self.progress.last is None:
            waiting = self.sidebar.counts["waiting"].text()
            self.progress.show_message("Up to date" if waiting == "0" else f"{waiting} photos waiting to be tagged")

    def show_failed(self) -> None:
        self.failed_dock.show()
        self.failed_dock.raise_()

    def refresh(self) -> None:
        """The library changed under us: update the grid (keeping its place), the sidebar and the detail."""
        if not self.reviewer.active:
            self.model.refresh()
        self.reload_overview()
        self.load_detail()

    # -- selection and detail --------------------------------------------------------------------------------------

    def _selection_changed(self, *_: object) -> None:
        if self.grid.restoring and not self.grid.selected_rows():
            return  # a refresh could not put the selection back: keep showing what was shown
        self._detail_timer.start()

    def _rows_arrived(self, *_: object) -> None:
        if self.loading.waiting_for_rows:
            self.loading.waiting_for_rows = False
            self._detail_timer.start()

    def load_detail(self, keep_tag: str | None = None) -> None:
        """Show the selection in the detail panel: its tags from the query pool, the photo from the images pool."""
        rows = self.grid.selected_rows()
        self.loading.detail += 1  # answers to earlier requests are now stale
        serial = self.loading.detail
        current = self.grid.current_photo_id()
        ids = [hit.photo_id for hit in map(self.model.hit, rows[:MAX_DETAIL_PHOTOS]) if hit is not None]
        if current in ids:
            ids.remove(current)
            ids.insert(0, current)
        self.loading.detail_pending = self.loading.preview_pending = False
        self.loading.waiting_for_rows = bool(rows) and not ids  # their page is on its way: _rows_arrived retries
        if not ids:
            if not rows:
                self._preview = None
                self.detail.show_empty("Select a photo to see its tags.")
            return
        self.loading.detail_pending = True
        self.loading.requested = tuple(ids)
        keep = keep_tag or (self.detail.current_tag().name if self.detail.current_tag() else None)
        if self.reviewer.active:
            keep = self.reviewer.session.tag
        self.tasks.run("query", partial(load_detail, self.library, ids),
                       partial(self._detail_loaded, serial, len(rows), keep, tuple(ids)),
                       partial(self._load_failed, serial))
        if self._preview is not None and self._preview.photo.id == ids[0]:
            return  # the same photo (a decision was made on it): its picture and boxes stay
        self.loading.preview_pending = True
        self.tasks.run("images", partial(load_preview, self.library, ids[0]), partial(self._preview_loaded, serial),
                       partial(self._load_failed, serial))

    def _detail_loaded(self, serial: int, selected: int, keep: str | None, ids: tuple[int, ...],
                       data: DetailData) -> None:
        if serial != self.loading.detail:
            return
        self.loading.detail_pending = False
        self.loading.shown = ids
        self.detail.show_data(data, selected, keep_tag=keep)

    def _preview_loaded(self, serial: int, preview: Preview | None) -> None:
        if serial != self.loading.detail:
            return
        self.loading.preview_pending = False
        self._preview = preview
        self.detail.show_preview(preview)
        if self.detail.view.show_boxes:
            self._detect()

    def _load_failed(self, serial: int, error: Exception) -> None:
        log.warning("could not load the selected photo: %s", error)
        if serial == self.loading.detail:
            self.loading.detail_pending = self.loading.preview_pending = False
            self.detail.show_empty(f"Could not load this photo: {error}")

    def set_show_boxes(self, show: bool) -> None:
        self.detail.view.set_show_boxes(show)
        if show:
            self._detect()

    def _detect(self) -> None:
        preview = self._preview
        if preview is None or preview.image is None:
            return
        photo_id = preview.photo.id

        def done(boxes: list) -> None:
            if self._preview is not None and self._preview.photo.id == photo_id:
                self.detail.view.set_boxes(boxes)
                self.statusBar().showMessage(f"{len(boxes)} object{'s' if len(boxes) != 1 else ''} detected", 4000)

        def failed(error: Exception) -> None:
            self.statusBar().showMessage(f"No boxes: {error}", 8000)

        self.tasks.run("images", partial(self.detections.detect, preview.photo), done, failed)

    def settled(self) -> bool:
        """Nothing the user would see is still loading (for the screenshot and for tests)."""
        model = self.model
        loading = self.loading
        return not (loading.detail_pending or loading.preview_pending or loading.waiting_for_rows
                    or model.thumbnails.pending() or self._detail_timer.isActive())

    # -- decisions -------------------------------------------------------------------------------------------------

    def decide(self, action: str, row: TagRow) -> None:
        """Accept, reject or remove ``row``'s tag on the photos it stands for (see :mod:`.decisions`)."""
        data = self.detail.data
        keep = self.detail.tags.next_suggestion_after(row.name) if action != "remove" else None
        if data is not None and len(data.photos) >= self.detail.selected:
            paths = {photo.id: photo.path for photo in data.photos}
            task = decisions.on_paths(self.library, action, row.name, [paths[i] for i in row.photo_ids if i in paths])
        else:
            task = decisions.on_selection(self.library, action, row.name, row.state,
                                          self.model.hits_resolver(self.grid.selected_rows()))
        self.tasks.run("writes", task, self._decided, self._write_failed)
        if keep is not None:
            # The cursor moves on now, not when the database answers: a quick second key decides the next tag.
            self.detail.tags.select_suggestion(keep)

    def decide_current(self, action: str) -> None:
        """The A and R keys: in review mode the review's tag, else the tag under the detail panel's cursor."""
        if self.reviewer.active:
            self.reviewer.decide(action)
            return
        if self._detail_timer.isActive() or self.loading.requested != self.loading.shown:
            return  # the panel still shows the previous selection: a key now would decide on the wrong photos
        row = self.detail.current_tag()
        if row is not None and row.state != f"{action}ed":
            self.decide(action, row)

    def add_tag(self, name: str) -> None:
        task = decisions.on_selection(self.library, "add", name, None,
                                      self.model.hits_resolver(self.grid.selected_rows()))
        self.tasks.run("writes", task, self._decided, self._write_failed)

    def _decide_on_paths(self, action: str, tag: str, paths: list[str]) -> None:
        task = decisions.on_paths(self.library, action, tag, paths)
        self.tasks.run("writes", task, self._decided, self._write_failed)

    def _decided(self, outcome: decisions.Outcome) -> None:
        self.statusBar().showMessage(outcome.message(), 5000)
        self.load_detail()
        self._refresh_timer.start(REFRESH_MS)

    def _write_failed(self, error: Exception) -> None:
        log.warning("a change to the library failed: %s", error)
        QMessageBox.warning(self, "photo-tagger", str(error))

    def _complete(self, prefix: str) -> None:
        # Lookups for "p", "pe", "peo" run on a pool and may finish in any order: only the latest one may land.
        self._completion_prefix = prefix

        def apply(names: list[str]) -> None:
            if prefix == self._completion_prefix:
                self.detail.set_completions(names)

        self.tasks.run("query", partial(self.library.store.tag_names, prefix, 30), apply)

    def review_tag(self) -> None:
        current = self.detail.current_tag()
        name, ok = QInputDialog.getText(self, "Review a tag", "Walk through every photo on which this tag is "
                                        "suggested:", text=current.name if current else "")
        if ok and name.strip():
            self.reviewer.start(name.strip())

    # -- background work -------------------------------------------------------------------------------------------

    def _start_background(self, tagger: Any, watch: bool) -> None:
        self.background = Background(self.library, tagger=tagger, watch=watch, parent=self)
        self.background.progress.connect(self._progress)
        self.background.stopped.connect(self._worker_stopped)
        self.background.changes.connect(self._watcher_changes)
        if self.progress.paused:
            self.background.pause()  # before it starts: a paused user's new worker must not claim a job first
        self.background.start()
        self.progress.set_enabled_pause(True)

    def new_tagger(self) -> Any:
        """A Tagger built now from the settings, so it has the library's current head (cheap: models load lazily)."""
        from photo_tagger.pipeline.tagger import Tagger

        return Tagger(self.settings)

    def stop_background(self) -> None:
        """Stop the worker and the watcher and wait for them, so this process no longer holds the worker lock.

        Blocks for as long as the photos in hand take: call it from a pool, never the GUI thread.
        """
        if self.background is not None:
            self.background.stop()

    def restart_background(self, tagger: Any) -> None:
        """Start a new worker and watcher with ``tagger`` after :meth:`stop_background` (on the GUI thread).

        A worker keeps the Tagger it was built with, so after the models change it is replaced, not resumed: the
        old one would go on writing the old models' suggestions.
        """
        old = self.background
        if old is None:
            return  # the window runs without a worker (a screenshot, a test)
        old.stop()  # already stopped by stop_background: returns at once
        old.deleteLater()
        self._start_background(tagger, old.watch)

    def library_changed(self, message: str) -> None:
        """A library-wide change (a re-tag) landed: say what it did and bring every view up to date."""
        self.statusBar().showMessage(message, 15000)
        self.refresh()
        if self.detail.add_field.text():
            self._complete(self.detail.add_field.text())  # the list under the add field may name tags now gone

    def _progress(self, event: WorkerProgress) -> None:
        self.progress.show_progress(event)
        self.progress.set_failed(max(event.failed, self.failed.count()))
        if event.finished or event.done >= event.total:
            self._refresh_timer.start(REFRESH_MS)
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start(PROGRESS_REFRESH_MS)

    def _worker_stopped(self, reason: str) -> None:
        if reason:
            self.progress.show_message(reason)
            self.progress.set_enabled_pause(False)

    def _watcher_changes(self, counts: dict[str, int]) -> None:
        words = {"rescanned": "photos checked", "queued": "to tag"}
        shown = ", ".join(f"{value:,} {words.get(name, name)}" for name, value in counts.items() if value)
        if shown:
            self.statusBar().showMessage(f"Folders: {shown}", 6000)
            self._refresh_timer.start(REFRESH_MS)

    def _pause_toggled(self, paused: bool) -> None:
        if self.background is not None:
            (self.background.pause if paused else self.background.resume)()
        action = self.actions_by_name["pause"]
        if action.isChecked() != paused:
            action.setChecked(paused)

    # -- settings --------------------------------------------------------------------------------------------------

    def tile_size(self) -> int:
        return self.grid.delegate.tile

    def set_tile_size(self, size: int) -> None:
        self.grid.set_tile(min(max(size, TILE_SIZES[0]), TILE_SIZES[-1]))

    def zoom(self, step: int) -> None:
        sizes = list(TILE_SIZES)
        position = min(range(len(sizes)), key=lambda i: abs(sizes[i] - self.tile_size()))
        self.set_tile_size(sizes[min(max(position + step, 0), len(sizes) - 1)])

    def _restore_settings(self) -> None:
        settings = self.qsettings
        query = ""
        screen = self.screen().availableGeometry()
        self.resize(min(1280, int(screen.width() * 0.9)), min(800, int(screen.height() * 0.9)))
        if self.restore:
            geometry = settings.value("window/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            state = settings.value("window/state")
            if state is not None:
                self.restoreState(state)
            splitter = settings.value("window/splitter")
            if splitter is not None:
                self.splitter.restoreState(splitter)
            self.set_tile_size(int(settings.value("view/tile", DEFAULT_TILE)))
            boxes = settings.value("view/boxes", False, type=bool)
            self.actions_by_name["boxes"].setChecked(boxes)
            query = str(settings.value("view/query", "") or "")
        self.search.set_text(query)

    def save_settings(self) -> None:
        settings = self.qsettings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("view/tile", self.tile_size())
        settings.setValue("view/boxes", self.detail.view.show_boxes)
        settings.setValue("view/query", "" if self.reviewer.active else self.search.text())
        settings.setValue("library/last", str(self.settings.library_path))
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.restore:
            self.save_settings()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker and the watcher and wait for the pools; the library can be closed after this."""
        if self.background is not None:
            self.background.stop()
            self.background = None
        self.tasks.shutdown()
