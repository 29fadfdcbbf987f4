"""The search box: results as you type (150 ms after the last key), the query as run, and errors inline.

A parse error never opens a dialog: the box turns red, the line under it says what is wrong and where, and the
grid keeps the last good results until the query parses again. The red stays until the next answer arrives, so
it does not flicker while the user types.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from photo_tagger.gui import icons
from photo_tagger.store import QueryError, SearchResult

DEBOUNCE_MS = 150
PLACEHOLDER = "Search tags \u2014 dog beach -night \u00b7 ~puppy \u00b7 date:2021 \u00b7 state:suggested"


class SearchBar(QWidget):
    query_changed = Signal(str)  # debounced; also emitted at once on Enter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QLineEdit(self, placeholderText=PLACEHOLDER, clearButtonEnabled=True)
        self.field.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.field.setMinimumHeight(32)
        self.field.setProperty("error", False)
        self.info = QLabel(self)
        self.info.setProperty("role", "dim")
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.count = QLabel(self)
        self.count.setProperty("role", "dim")
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)
        self.field.textChanged.connect(lambda _text: self._timer.start())
        self.field.returnPressed.connect(self._emit)
        line = QHBoxLayout()
        line.setContentsMargins(4, 0, 4, 0)
        line.addWidget(self.info, 1)
        line.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.field)
        layout.addLayout(line)

    def text(self) -> str:
        return self.field.text()

    def set_text(self, text: str) -> None:
        """Put ``text`` in the box and search for it now (not after the debounce)."""
        self.field.setText(text)
        self._emit()

    def show_result(self, result: SearchResult) -> None:
        self._set_error_style(False)
        count = f"{result.total:,} photo{'s' if result.total != 1 else ''}"
        self.count.setText(count)
        if result.query.strip():
            self.info.setText(f"searching for: {result.query}")
        else:
            self.info.setText("all photos, newest first")

    def show_error(self, error: Exception) -> None:
        self._set_error_style(True)
        if isinstance(error, QueryError):
            self.info.setText(f"\u26a0 {error.message} (at character {error.position + 1})")
        else:
            self.info.setText(f"\u26a0 the search failed: {error}")

    def _emit(self) -> None:
        self._timer.stop()
        self.query_changed.emit(self.field.text())

    def _set_error_style(self, error: bool) -> None:
        self.info.setProperty("role", "error" if error else "dim")
        self.field.setProperty("error", error)
        for widget in (self.info, self.field):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
