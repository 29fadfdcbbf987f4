"""Review mode: every photo on which one tag is suggested, one key per decision.

Starting a review runs ``"<tag>" state:suggested`` and selects the first photo. ``A`` accepts the tag on it,
``R`` rejects it, ``S`` skips; each moves on to the next photo, and the tile gets a badge. The rows stay where
they are while reviewing (the query is not re-run after each decision), so the position and the count hold
still; finishing runs the query again, which then lists only what was skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from photo_tagger.gui import icons
from photo_tagger.gui.grid_model import PhotoGridModel
from photo_tagger.gui.grid_view import PhotoGrid
from photo_tagger.gui.search_bar import SearchBar
from photo_tagger.store import SearchResult
from photo_tagger.store.query import quote


def review_query(tag: str) -> str:
    return f"{quote(tag)} state:suggested"


@dataclass
class ReviewSession:
    tag: str
    query: str
    total: int = 0
    decided: dict[int, str] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for decision in self.decided.values() if decision == action)


class ReviewBanner(QWidget):
    finish_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.label = QLabel(self)
        self.keys = QLabel("A accept  \u00b7  R reject  \u00b7  S skip  \u00b7  \u2190 \u2192 move  \u00b7  Esc finish",
                           self)
        button = QPushButton(icons.icon("check", "#ffffff"), "Finish", self)
        button.clicked.connect(self.finish_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.keys)
        layout.addWidget(button)
        self.hide()

    def show_session(self, session: ReviewSession, position: int) -> None:
        done = len(session.decided)
        if session.total == 0:
            text = f"No suggestions of \u201c{session.tag}\u201d left to review."
        elif done >= session.total:
            text = f"All {session.total} suggestions of \u201c{session.tag}\u201d reviewed"
        else:
            text = f"Reviewing \u201c{session.tag}\u201d  \u2014  photo {position + 1} of {session.total}"
        text += f"   \u2713 {session.count('accept')}   \u2717 {session.count('reject')}"
        self.label.setText(text)
        self.show()


class Reviewer(QObject):
    """Drives a review over the grid; ``decide(action, tag, paths)`` does the writing."""

    finished = Signal()

    def __init__(self, grid: PhotoGrid, search: SearchBar, banner: ReviewBanner,
                 decide: Callable[[str, str, list[str]], None]) -> None:
        super().__init__(grid)
        self.grid, self.search, self.banner, self._decide = grid, search, banner, decide
        self.session: ReviewSession | None = None
        banner.finish_clicked.connect(self.finish)
        self.model.searched.connect(self._searched)
        grid.selectionModel().currentChanged.connect(lambda *_: self._refresh_banner())

    @property
    def model(self) -> PhotoGridModel:
        return self.grid.photo_grid_model()

    @property
    def active(self) -> bool:
        return self.session is not None

    def start(self, tag: str) -> None:
        self.session = ReviewSession(tag, review_query(tag))
        self.search.set_text(self.session.query)

    def decide(self, action: str) -> None:
        """Accept or reject the review's tag on the current photo, then move to the next one."""
        session, hit = self.session, self.model.hit(self.grid.currentIndex().row())
        if session is None or hit is None:
            return
        session.decided[hit.photo_id] = action
        self.model.set_mark(hit.photo_id, f"{action}ed")
        self._decide(action, session.tag, [hit.path])
        self.step(1)

    def step(self, delta: int) -> None:
        row = self.grid.currentIndex().row() + delta
        if 0 <= row < self.model.rowCount():
            self.grid.select_row(row)
        self._refresh_banner()

    def finish(self) -> None:
        if self.session is None:
            return
        self.session = None
        self.banner.hide()
        self.model.refresh()
        self.finished.emit()

    def _searched(self, result: SearchResult) -> None:
        session = self.session
        if session is None:
            return
        if self.model.query != session.query:
            self.session = None  # the user typed another search: the review is over
            self.banner.hide()
            return
        session.total = result.total
        self.grid.select_row(0)
        self._refresh_banner()

    def _refresh_banner(self) -> None:
        if self.session is not None:
            self.banner.show_session(self.session, max(self.grid.currentIndex().row(), 0))
