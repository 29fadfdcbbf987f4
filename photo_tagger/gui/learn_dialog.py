"""Library ▸ Learn from My Tags…: a personal head learned from the user's decisions, and what it learned, per tag.

Learning runs on the ``bulk`` pool (:func:`photo_tagger.learn.learn_personal_head`) behind a busy indicator; it writes
the new head and makes it the library's head. The window's worker is then replaced by one with a Tagger that has the
new head, so photos tagged from now on get it. What the new head changes in the photos already tagged is the re-tag's
job: the report offers "Re-tag Now…", which opens :class:`~photo_tagger.gui.retag_dialog.RetagDialog`.

The wording follows ``photo-tagger learn``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from photo_tagger.gui.theme import STATE_COLORS
from photo_tagger.learn import LearnResult, NothingToLearnError

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow
    from photo_tagger.training.personal import TagReport

log = logging.getLogger(__name__)

TITLE = "Learn from My Tags"
MINUS = "\u2212"


def describe_figures(report: TagReport) -> str:
    """The cross-validated figures of one tag, as ``photo-tagger learn`` prints them ("" when there are none)."""
    f = report.figures
    if not f:
        return ""
    if report.kind == "custom":
        return (f"held-out AP {f['ap']:.2f} (base rate {f['base_rate']:.2f}), precision {f['precision']:.2f}, "
                f"recall {f['recall']:.2f}")
    return (f"agreement with your held-out decisions {f['agreement_shipped']:.2f} \u2192 "
            f"{f['agreement_personal']:.2f}")


def headline(result: LearnResult) -> str:
    left_out = (f" ({result.without_features:,} decisions on photos not tagged yet were left out)"
                if result.without_features else "")
    return f"Learned from {result.decisions:,} decisions on {result.photos:,} photos{left_out}."


def outcome(result: LearnResult, head_override: object = None) -> str:
    if not result.version:
        return "Nothing was learned; the library's head is unchanged."
    text = f"New head {result.version} is now the library's head. Re-tag the library to see what it changes."
    if head_override is not None:
        # An explicit head (PHOTO_TAGGER_HEAD) wins over the library's own, so the new one is not used yet.
        text += f" Note: PHOTO_TAGGER_HEAD names {head_override}, which is used instead until it is unset."
    return text


class LearnDialog(QDialog):
    """The per-tag report; "Re-tag Now…" when a new head was learned."""

    def __init__(self, window: MainWindow, result: LearnResult) -> None:
        super().__init__(window)
        self.main = window
        self.result = result
        self.setWindowTitle(TITLE)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(860, 440)
        self.heading = QLabel(headline(result), self)
        self.heading.setWordWrap(True)
        self.table = QTreeWidget(self)
        self.table.setColumnCount(5)
        self.table.setHeaderLabels(["Tag", "Kind", "Decisions", "Learned", "Figures and notes"])
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        # Figures and the reason get a line each (a tree view does not wrap long text, it elides it).
        self.table.setUniformRowHeights(False)
        header = self.table.header()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for report in result.reports:
            details = "\n".join(part for part in (describe_figures(report), report.reason) if part)
            item = QTreeWidgetItem(self.table, [
                report.tag, "your tag" if report.kind == "custom" else "correction",
                f"{report.positives}+ / {report.negatives}{MINUS}", "learned" if report.used else "not learned",
                details,
            ])  # fmt: skip
            item.setForeground(3, QColor(STATE_COLORS["accepted" if report.used else "rejected"]))
            item.setToolTip(4, details)
        self.table.setVisible(bool(result.reports))
        self.outcome = QLabel(outcome(result, window.settings.head_path), self)
        self.outcome.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        self.retag_button: QPushButton | None = None
        if result.version:
            self.retag_button = QPushButton("Re-tag Now\u2026", self)
            self.retag_button.setDefault(True)
            self.retag_button.setToolTip("Show what the new head changes in the suggestions, then apply it")
            self.buttons.addButton(self.retag_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.retag_button.clicked.connect(self.retag_now)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.outcome)
        layout.addWidget(self.buttons)

    def retag_now(self) -> None:
        from photo_tagger.gui.retag_dialog import open_retag

        self.accept()
        open_retag(self.main)


def start_learning(window: MainWindow) -> QProgressDialog:
    """Learn on the ``bulk`` pool behind a busy indicator; then the report, or a message saying why not."""
    from photo_tagger.learn import learn_personal_head

    busy = QProgressDialog("Learning from your accepted, rejected and added tags\u2026", None, 0, 0, window)
    busy.setWindowTitle(TITLE)
    busy.setWindowModality(Qt.WindowModality.WindowModal)
    busy.setMinimumDuration(0)
    busy.setAutoClose(False)
    busy.show()
    window.statusBar().showMessage("Learning from your tags\u2026")

    def learn() -> tuple[LearnResult, Any]:
        result = learn_personal_head(window.library.store, window.settings)
        tagger = None
        if result.version:
            # The library's head changed: the worker's Tagger has the old one (see MainWindow.restart_background).
            tagger = window.new_tagger()
            window.stop_background()
        return result, tagger

    def done(value: tuple[LearnResult, Any]) -> None:
        result, tagger = value
        busy.close()
        if tagger is not None:
            window.restart_background(tagger)
        window.statusBar().showMessage(f"Learned a new head: {result.version}" if result.version
                                       else "Nothing was learned; the head is unchanged", 10000)
        LearnDialog(window, result).open()

    def failed(error: Exception) -> None:
        busy.close()
        window.statusBar().clearMessage()
        if isinstance(error, NothingToLearnError):
            QMessageBox.information(window, TITLE, str(error))
            return
        log.warning("learning failed: %s", error)
        QMessageBox.warning(window, TITLE, f"Could not learn from your tags: {error}")

    window.tasks.run("bulk", learn, done, failed)
    return busy
