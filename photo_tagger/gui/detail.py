"""The detail panel: the selected photo large, its tags by state, accept/reject buttons and an "add tag" field."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from photo_tagger.gui import icons
from photo_tagger.gui.images import Preview
from photo_tagger.gui.photo_view import PhotoView
from photo_tagger.gui.tag_list import TagList, TagRow, tag_rows
from photo_tagger.library import Library
from photo_tagger.store import PhotoInfo, PhotoTagInfo

MAX_DETAIL_PHOTOS = 500  # a bigger selection lists the tags of its first 500 photos (bulk actions take them all)


@dataclass(frozen=True)
class DetailData:
    photos: list[PhotoInfo]
    tags: dict[int, list[PhotoTagInfo]]


def load_detail(library: Library, photo_ids: Sequence[int]) -> DetailData:
    """Runs on the query pool: the photos' records and tags, a few milliseconds per photo."""
    photos = [photo for photo in map(library.store.get_photo, photo_ids[:MAX_DETAIL_PHOTOS]) if photo is not None]
    return DetailData(photos, {photo.id: library.store.photo_tags(photo.id) for photo in photos})


def describe(photo: PhotoInfo) -> str:
    parts = []
    if photo.width and photo.height:
        parts.append(f"{photo.width} \u00d7 {photo.height}")
    if photo.date_taken:
        parts.append(f"{photo.date_taken:%d %b %Y}")
    parts.append({"new": "waiting to be tagged", "tagged": "tagged", "missing": "file missing",
                  "error": "could not be tagged"}[photo.status.value])
    return "  \u00b7  ".join(parts)


class DetailPanel(QWidget):
    decision_requested = Signal(str, object)  # "accept" | "reject" | "remove", TagRow
    add_requested = Signal(str)
    review_requested = Signal(str)
    completion_wanted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detail")
        self.data: DetailData | None = None
        self.selected = 0
        self.view = PhotoView(self)
        self.title = QLabel(self, objectName="detailTitle")
        self.title.setProperty("role", "title")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = QLabel(self)
        self.meta.setProperty("role", "dim")
        self.meta.setWordWrap(True)
        self.tags = TagList(self)
        self.tags.action_requested.connect(self.decision_requested)
        self.tags.review_requested.connect(self.review_requested)
        self.tags.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.accept_button = self._button("Accept", "check", "accept", "Accept the selected suggestion (A)")
        self.reject_button = self._button("Reject", "cross", "reject", "Reject the selected tag (R)")
        self.add_field = QLineEdit(self, placeholderText="Add a tag\u2026", clearButtonEnabled=True)
        self.add_field.addAction(icons.icon("tag"), QLineEdit.ActionPosition.LeadingPosition)
        self.completions = QStringListModel(self)
        self.completer = QCompleter(self.completions, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.add_field.setCompleter(self.completer)
        self.add_field.textEdited.connect(self.completion_wanted)
        self.add_field.returnPressed.connect(self._add)
        self.add_button = QPushButton(icons.icon("plus"), "Add", self)
        self.add_button.clicked.connect(self._add)
        self._layout()
        self.show_empty("Select a photo to see its tags.")

    def _button(self, text: str, icon: str, action: str, tip: str) -> QPushButton:
        button = QPushButton(icons.icon(icon, "#3fb67f" if action == "accept" else "#e25d5d"), text, self)
        button.setProperty("role", action)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(lambda: self._decide(action))
        return button

    def _layout(self) -> None:
        header = QWidget(self)
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(2, 8, 2, 4)
        header_layout.setSpacing(2)
        header_layout.addWidget(self.title)
        header_layout.addWidget(self.meta)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.reject_button)
        adding = QHBoxLayout()
        adding.setSpacing(6)
        adding.addWidget(self.add_field, 1)
        adding.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addWidget(self.view)
        layout.addWidget(header)
        layout.addWidget(self.tags, 1)
        layout.addLayout(buttons)
        layout.addLayout(adding)
        layout.addStretch(0)
        self._photo_only = [self.view, self.tags, self.accept_button, self.reject_button, self.add_field,
                            self.add_button]
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    # -- what is shown ---------------------------------------------------------------------------------------------

    def show_empty(self, message: str) -> None:
        self.data = None
        self.selected = 0
        self.title.setText("No photo selected")
        self.meta.setText(message)
        self.view.set_message("")
        self.tags.set_rows([])
        for widget in self._photo_only:  # an empty list and dead buttons would only be grey boxes
            widget.hide()
        self._update_buttons()

    def show_data(self, data: DetailData, selected: int, keep_tag: str | None = None) -> None:
        self.data = data
        self.selected = selected
        for widget in self._photo_only:
            widget.show()
        if selected == 1 and data.photos:
            photo = data.photos[0]
            self.title.setText(os.path.basename(photo.path))
            self.title.setToolTip(photo.path)
            self.meta.setText(describe(photo) + (f"\n{photo.error}" if photo.error else ""))
        else:
            self.title.setText(f"{selected:,} photos selected")
            self.title.setToolTip("")
            more = f" (tags of the first {len(data.photos)})" if selected > len(data.photos) else ""
            self.meta.setText(f"Accept or reject applies to every selected photo the tag is on{more}.")
        self.tags.set_rows(tag_rows(data.tags), keep=keep_tag)
        self._update_buttons()

    def show_preview(self, preview: Preview | None) -> None:
        if preview is None:
            self.view.set_message("This photo is no longer in the library.")
        elif preview.image is None:
            self.view.set_message(f"No preview: {preview.error}")
        else:
            self.view.set_image(preview.image, preview.full_size)

    def set_completions(self, names: list[str]) -> None:
        self.completions.setStringList(names)
        if self.add_field.hasFocus() and names:
            self.completer.setCompletionPrefix(self.add_field.text())
            self.completer.complete()

    def current_tag(self) -> TagRow | None:
        return self.tags.current_row()

    # -- user actions ----------------------------------------------------------------------------------------------

    def _decide(self, action: str) -> None:
        row = self.current_tag()
        if row is not None:
            self.decision_requested.emit(action, row)

    def _add(self) -> None:
        name = self.add_field.text().strip()
        if name and self.selected:
            self.add_requested.emit(name)
            self.add_field.clear()

    def _update_buttons(self) -> None:
        row = self.current_tag()
        self.accept_button.setEnabled(row is not None and row.state != "accepted")
        self.reject_button.setEnabled(row is not None and row.state != "rejected")
        self.add_field.setEnabled(self.selected > 0)
        self.add_button.setEnabled(self.selected > 0)
