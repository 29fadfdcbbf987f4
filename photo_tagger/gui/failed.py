"""The "failed photos" panel: every photo that could not be tagged, with the reason the library recorded."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


class FailedPanel(QWidget):
    photo_chosen = Signal(str)  # a failed photo's path (double-click)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(self)
        self.summary.setProperty("role", "dim")
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Photo", "Reason", "Folder"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.tree.itemDoubleClicked.connect(lambda item: self.photo_chosen.emit(item.data(0, Qt.ItemDataRole.UserRole)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        self.set_errors([])

    def set_errors(self, errors: list[tuple[str, str]]) -> None:
        self.tree.clear()
        for path, reason in errors:
            item = QTreeWidgetItem(self.tree, [os.path.basename(path), reason, os.path.dirname(path)])
            item.setData(0, Qt.ItemDataRole.UserRole, path)
            item.setToolTip(0, path)
            item.setToolTip(1, reason)
        self.summary.setText(
            f"{len(errors):,} photo{'s' if len(errors) != 1 else ''} could not be tagged. "
            "Fix or replace the file and it is tagged again at the next scan." if errors
            else "Every photo could be read and tagged."
        )

    def count(self) -> int:
        return self.tree.topLevelItemCount()
