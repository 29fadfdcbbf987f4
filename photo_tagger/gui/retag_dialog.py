"""Library ▸ Re-tag Library…: what the current models would change in the suggestions, then applying it.

The dialog opens at once and compares on the ``bulk`` pool (a dry run, :meth:`Library.retag`), showing how far it got;
then it shows the summary and the tags that change, in the CLI's words (``photo-tagger retag``). Apply re-tags on the
same pool. Applying takes the library's worker lock, so the window's own worker is stopped first and replaced after
by one with the Tagger the diff was computed with: the worker then tags the photos that need their images again,
with the usual progress in the status bar. Decisions are never changed by a re-tag.

The Tagger is built once per dialog, when it opens (after a "learn", so it has the new head), and used for both the
comparison and the apply, so what is applied is what was shown.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from photo_tagger.retag.diff import RetagDiff, TagDiff
from photo_tagger.worker import WorkerBusyError

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow

log = logging.getLogger(__name__)

MINUS = "\u2212"


class _Cancelled(Exception):
    """The dialog was closed during the comparison: the dry run stops at its next progress report."""


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def summary_lines(diff: RetagDiff) -> list[str]:
    """The diff in the words of ``photo-tagger retag``, one sentence a line; for a library already up to date:
    "6 tagged photos: 6 up to date, 0 to re-score from stored features (0 change), 0 need the images again" and
    "Nothing to change: …"."""
    verb = "re-scored" if diff.applied else "to re-score"
    lines = [f"{_plural(diff.photos, 'tagged photo')}: {diff.up_to_date:,} up to date, {diff.from_evidence:,} {verb} "
             f"from stored features ({diff.changed:,} change), {diff.needs_images:,} need the images again"]
    if diff.gained or diff.lost:
        lines.append(f"Suggestions: +{diff.gained:,} gained, {MINUS}{diff.lost:,} lost")
    rescored = sum(t.rescored for t in diff.tags.values())
    if rescored:
        keep = "keeps its tag" if rescored == 1 else "keep their tag"
        lines.append(f"{_plural(rescored, 'suggestion')} {keep} with a new score")
    if diff.kept_decisions:
        lines.append(f"{_plural(diff.kept_decisions, 'suggestion')} for tags you already decided: left as you "
                     "decided them")
    if diff.applied:
        if diff.queued:
            lines.append(f"{_plural(diff.queued, 'photo')} queued to be tagged from their images")
    elif not has_changes(diff):
        lines.append("Nothing to change: the suggestions are already what the current models give.")
    return lines


def version_changes(diff: RetagDiff) -> list[str]:
    """Which models differ from the ones the photos were tagged with, and on how many photos, e.g.
    ``["head taggernet-fb03f23f3326 → taggernet-personal-3f2a (8 photos)"]``."""
    return [f"{name} {old} → {new} ({_plural(count, 'photo')})" for name, old, new, count in diff.version_changes()]


def has_changes(diff: RetagDiff) -> bool:
    """Whether applying would do anything: change suggestions, queue photos, or record that photos tagged by older
    models come out the same (so the next comparison skips them)."""
    return bool(diff.changed or diff.needs_images or diff.from_evidence)


def status_message(diff: RetagDiff) -> str:
    """The status bar's line after an apply."""
    if not has_changes(diff):
        return "Re-tagged: nothing changed"
    parts = [f"{_plural(diff.changed, 'photo')} changed"]
    if diff.gained or diff.lost:
        parts[0] += f" (+{diff.gained:,} / {MINUS}{diff.lost:,} suggestions)"
    if diff.queued:
        parts.append(f"{_plural(diff.queued, 'photo')} queued to be tagged from their images")
    return "Re-tagged: " + "; ".join(parts)


def changed_tags(diff: RetagDiff) -> list[TagDiff]:
    """The tags some photo gains or loses, most photos first (tags only re-scored are counted, not listed)."""
    return [t for t in diff.ranked_tags() if t.gained or t.lost]


class RetagDialog(QDialog):
    progressed = Signal(int, int)  # done, total photos: emitted on the pool thread, delivered on the GUI thread

    def __init__(self, window: MainWindow, tagger: Any = None) -> None:
        super().__init__(window)
        self.main = window
        self.tagger = tagger
        self.diff: RetagDiff | None = None
        self.applying = False
        self.applied: RetagDiff | None = None
        self._closed = threading.Event()
        self.setWindowTitle("Re-tag Library")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 520)
        self._build()
        self.progressed.connect(self._show_progress)

    def _build(self) -> None:
        self.heading = QLabel("Comparing the library's suggestions with what the current models say\u2026", self)
        self.heading.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy until the first report says how many photos there are
        self.bar.setTextVisible(False)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.versions = QLabel(self)
        self.versions.setProperty("role", "dim")
        self.versions.setWordWrap(True)
        self.table = QTreeWidget(self)
        self.table.setColumnCount(4)
        self.table.setHeaderLabels(["Tag", "Gain", "Lose", "Example"])
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a path's file name is its useful end
        header = self.table.header()
        header.setStretchLastSection(True)
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.note = QLabel("Accepted, rejected and your own tags are never changed.", self)
        self.note.setProperty("role", "dim")
        self.buttons = QDialogButtonBox(self)
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.setEnabled(False)
        self.apply_button.setToolTip("Change the suggestions as listed")
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button.clicked.connect(self.apply)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(10)
        for widget in (self.heading, self.bar, self.summary, self.versions):
            layout.addWidget(widget)
        layout.addWidget(self.table, 1)
        layout.addStretch(0)  # takes the room while the table is hidden, none once it shows
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        for widget in (self.summary, self.versions, self.table):
            widget.hide()

    # -- the comparison ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.main.tasks.run("bulk", self._compare, self._compared, self._failed)

    def _report(self, done: int, total: int) -> None:
        """The core's progress callback, on the pool thread: only a signal crosses to the GUI thread."""
        if self._closed.is_set() and not self.applying:
            raise _Cancelled
        self.progressed.emit(done, total)

    def _compare(self) -> RetagDiff:
        if self.tagger is None:
            self.tagger = self.main.new_tagger()
        return self.main.library.retag(apply=False, progress=self._report, tagger=self.tagger)

    def _show_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        doing = "Re-tagging" if self.applying else "Comparing with the current models"
        self.heading.setText(f"{doing}: {done:,} of {_plural(total, 'tagged photo')}\u2026")

    def _compared(self, diff: RetagDiff) -> None:
        self.diff = diff
        self.bar.hide()
        changes = has_changes(diff)
        self.heading.setText("Re-tagging would change these suggestions:" if changes
                             else "The library is up to date with the current models.")
        self.summary.setText("\n".join(summary_lines(diff)))
        self.summary.show()
        changed_models = version_changes(diff)
        self.versions.setText("Models changed since tagging: " + "; ".join(changed_models))
        self.versions.setToolTip("Models now:\n" + "\n".join(f"{k} {v}" for k, v in sorted(diff.versions.items())))
        self.versions.setVisible(bool(changed_models))
        self._fill_table(changed_tags(diff))
        self.apply_button.setEnabled(changes)
        self.apply_button.setDefault(changes)
        self.close_button.setText("Cancel" if changes else "Close")

    def _fill_table(self, tags: list[TagDiff]) -> None:
        self.table.clear()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for entry in tags:
            examples = [f"+{p}" for p in entry.gained_examples] + [f"{MINUS}{p}" for p in entry.lost_examples]
            gain = f"+{entry.gained:,}" if entry.gained else ""
            lose = f"{MINUS}{entry.lost:,}" if entry.lost else ""
            item = QTreeWidgetItem(self.table, [entry.tag, gain, lose, examples[0] if examples else ""])
            item.setTextAlignment(1, right)
            item.setTextAlignment(2, right)
            item.setToolTip(3, "\n".join(examples))
            if entry.rescored:
                item.setToolTip(0, f"{_plural(entry.rescored, 'photo')} keep it with a new score")
        self.table.setVisible(bool(tags))

    # -- applying ---------------------------------------------------------------------------------------------------

    def apply(self) -> None:
        if self.diff is None or self.applying:
            return
        self.applying = True
        self.apply_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.heading.setText("Re-tagging the library\u2026")
        self.bar.setRange(0, 0)
        self.bar.show()
        self.main.statusBar().showMessage("Re-tagging the library\u2026")
        self.main.tasks.run("bulk", self._apply, self._done, self._failed)

    def _apply(self) -> RetagDiff:
        self.main.stop_background()  # it holds the worker lock, and its Tagger has the old models
        return self.main.library.retag(apply=True, progress=self._report, tagger=self.tagger)

    def _done(self, diff: RetagDiff) -> None:
        self.applied = diff
        self.applying = False
        self.main.restart_background(self.tagger)
        self.main.library_changed(status_message(diff))
        self.accept()

    def _failed(self, error: Exception) -> None:
        if isinstance(error, _Cancelled):
            return
        if self.applying:
            self.applying = False
            self.main.restart_background(self.tagger)
            self.main.statusBar().clearMessage()
        log.warning("re-tag failed: %s", error)
        self.bar.hide()
        if isinstance(error, WorkerBusyError):
            text = f"Could not re-tag: {error}. Close it (or wait for it) and try again."
        else:
            text = f"Could not re-tag: {error}"
        self.heading.setText(text)
        self.apply_button.setEnabled(False)
        self.close_button.setEnabled(True)
        self.close_button.setText("Close")

    # -- closing ----------------------------------------------------------------------------------------------------

    def reject(self) -> None:
        if self.applying:
            return  # half a re-tag is not a state to leave the library in by pressing Esc
        self._closed.set()
        super().reject()

    def done(self, result: int) -> None:
        self._closed.set()
        super().done(result)


def open_retag(window: MainWindow, tagger: Any = None) -> RetagDialog:
    """Show the dialog (window-modal) and start comparing."""
    dialog = RetagDialog(window, tagger)
    dialog.open()
    dialog.start()
    return dialog
