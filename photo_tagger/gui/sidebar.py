"""The sidebar: the library's watched folders with their photo counts, buttons to add and remove them, and what
state the library is in (tagged, waiting, missing, failed)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photo_tagger.gui import icons
from photo_tagger.library import Library, LibraryStatus
from photo_tagger.store import FolderInfo, JobState, PhotoStatus

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
ALL_PHOTOS = ""


@dataclass(frozen=True)
class FolderRow:
    folder: FolderInfo
    photos: int
    present: bool  # the folder exists on disk now (an unplugged drive's folder does not)


@dataclass(frozen=True)
class Overview:
    folders: list[FolderRow]
    status: LibraryStatus

    @property
    def total(self) -> int:
        return sum(self.status.photos.values())


def load_overview(library: Library) -> Overview:
    """Runs on the query pool: counts and folder checks touch the database and the disk."""
    status = library.status()
    rows = [FolderRow(folder, len(library.store.photo_ids(folder_id=folder.id)), os.path.isdir(folder.path))
            for folder in status.folders]
    return Overview(rows, status)


class Sidebar(QWidget):
    folder_chosen = Signal(str)  # a folder's path, or ALL_PHOTOS
    add_clicked = Signal()
    remove_clicked = Signal(str)
    rescan_clicked = Signal()
    failed_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.overview: Overview | None = None
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.add_button = self._tool("folder-plus", "Add a folder to watch\u2026", self.add_clicked.emit)
        self.remove_button = self._tool("folder-minus", "Remove the selected folder from the library",
                                        self._remove)
        self.rescan_button = self._tool("refresh", "Rescan every folder now", self.rescan_clicked.emit)
        self.counts = {name: QLabel("\u2013", self) for name in ("tagged", "waiting", "missing", "failed")}
        self.failed_button = QPushButton("Show failed photos", self)
        self.failed_button.setIcon(icons.icon("alert", "#e25d5d"))
        self.failed_button.clicked.connect(self.failed_clicked)
        self.failed_button.hide()
        self._layout()

    def _tool(self, icon: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icons.icon(icon))
        button.setToolTip(tip)
        button.setProperty("flat", True)
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        title = QLabel("FOLDERS", self)
        title.setProperty("role", "section")
        top = QHBoxLayout()
        top.setContentsMargins(6, 0, 0, 0)
        top.addWidget(title, 1)
        for button in (self.add_button, self.remove_button, self.rescan_button):
            top.addWidget(button)
        status_title = QLabel("STATUS", self)
        status_title.setProperty("role", "section")
        grid = QGridLayout()
        grid.setContentsMargins(6, 0, 6, 0)
        grid.setVerticalSpacing(3)
        for line, (name, label) in enumerate(self.counts.items()):
            caption = QLabel(name.capitalize(), self)
            caption.setProperty("role", "dim")
            label.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(caption, line, 0)
            grid.addWidget(label, line, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 6, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(status_title)
        layout.addLayout(grid)
        layout.addWidget(self.failed_button)

    def set_overview(self, overview: Overview) -> None:
        self.overview = overview
        current = self.selected_path()
        self.tree.clear()
        everything = QTreeWidgetItem(self.tree, ["All photos", f"{overview.total:,}"])
        everything.setIcon(0, icons.icon("photos"))
        everything.setData(0, PATH_ROLE, ALL_PHOTOS)
        for row in overview.folders:
            name = os.path.basename(row.folder.path.rstrip(os.sep)) or row.folder.path
            item = QTreeWidgetItem(self.tree, [name, f"{row.photos:,}"])
            item.setData(0, PATH_ROLE, row.folder.path)
            item.setIcon(0, icons.icon("folder" if row.present else "folder-missing"))
            note = "" if row.present else "\nnot found on disk: its photos are kept and come back with it"
            watched = "watched" if row.folder.watched else "not watched"
            item.setToolTip(0, f"{row.folder.path}\n{watched}{note}")
            if current == row.folder.path:
                self.tree.setCurrentItem(item)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for index in range(self.tree.topLevelItemCount()):
            self.tree.topLevelItem(index).setTextAlignment(1, right)
        photos, jobs = overview.status.photos, overview.status.jobs
        waiting = jobs.get(JobState.QUEUED, 0) + jobs.get(JobState.RUNNING, 0)
        values = {"tagged": photos.get(PhotoStatus.TAGGED, 0), "waiting": waiting,
                  "missing": photos.get(PhotoStatus.MISSING, 0), "failed": len(overview.status.errors)}
        for name, value in values.items():
            self.counts[name].setText(f"{value:,}")
        self.failed_button.setVisible(values["failed"] > 0)
        self._update_buttons()

    def selected_path(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, PATH_ROLE) if item is not None else None

    def _clicked(self, item: QTreeWidgetItem) -> None:
        self.folder_chosen.emit(item.data(0, PATH_ROLE))

    def _remove(self) -> None:
        path = self.selected_path()
        if path:
            self.remove_clicked.emit(path)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.selected_path()))
