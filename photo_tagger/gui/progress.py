"""The status bar's right side: what the worker is doing (n of m, rate, ETA), pause/resume, and failures."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from photo_tagger.gui import icons
from photo_tagger.worker import WorkerProgress


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def describe_progress(event: WorkerProgress, paused: bool = False) -> str:
    """``Tagging 12 of 48 · 3.1 photos/s · 0:11 left``; after the run, what it did."""
    if event.finished or event.done >= event.total:
        failed = f", {event.failed} failed" if event.failed else ""
        return f"Tagged {event.done - event.failed:,} of {event.total:,}{failed}" if event.total else "Up to date"
    head = "Paused at" if paused else "Tagging"
    return f"{head} {event.done:,} of {event.total:,}  \u00b7  {event.rate:.1f} photos/s  \u00b7  " \
           f"{format_eta(event.eta_s)} left"


class ProgressPanel(QWidget):
    pause_toggled = Signal(bool)  # True: pause
    failed_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Up to date", self)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(140)
        self.bar.hide()
        self.pause_button = QToolButton(self)
        self.pause_button.setProperty("flat", True)
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._toggled)
        self.failed_button = QToolButton(self)
        self.failed_button.setProperty("flat", True)
        self.failed_button.setIcon(icons.icon("alert", "#e25d5d"))
        self.failed_button.setToolButtonStyle(self.failed_button.toolButtonStyle().ToolButtonTextBesideIcon)
        self.failed_button.clicked.connect(self.failed_clicked)
        self.failed_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(8)
        for widget in (self.failed_button, self.label, self.bar, self.pause_button):
            layout.addWidget(widget)
        self.last: WorkerProgress | None = None
        self._toggled(False)

    @property
    def paused(self) -> bool:
        return self.pause_button.isChecked()

    def show_progress(self, event: WorkerProgress) -> None:
        self.last = event
        working = not event.finished and event.done < event.total
        self.bar.setVisible(working)
        if working:
            self.bar.setRange(0, max(event.total, 1))
            self.bar.setValue(event.done)
        self.label.setText(describe_progress(event, self.paused))
        self.label.setToolTip(event.current or "")

    def show_message(self, text: str) -> None:
        self.bar.hide()
        self.label.setText(text)

    def set_failed(self, count: int) -> None:
        self.failed_button.setVisible(count > 0)
        self.failed_button.setText(f"{count:,} failed")
        self.failed_button.setToolTip("Show the photos that could not be tagged, and why")

    def set_enabled_pause(self, enabled: bool) -> None:
        self.pause_button.setEnabled(enabled)

    def _toggled(self, paused: bool) -> None:
        self.pause_button.setIcon(icons.icon("play" if paused else "pause"))
        self.pause_button.setToolTip("Resume tagging" if paused else "Pause tagging")
        if self.last is not None:
            self.label.setText(describe_progress(self.last, paused))
        self.pause_toggled.emit(paused)
