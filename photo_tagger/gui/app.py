"""Starting the desktop app: the QApplication, the theme, the remembered settings, and the window's lifecycle.

Remembered between runs (``QSettings``, INI format under the user's config folder, organisation and application
"photo-tagger"): the window's geometry and docks, the splitter, the thumbnail size, the overlay switch, the last
search, the theme and the last library opened. Tests point ``QSettings.setPath`` at a temporary folder.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

from photo_tagger.config import Settings
from photo_tagger.gui.theme import apply_theme
from photo_tagger.library import Library

log = logging.getLogger(__name__)

ORGANISATION = APPLICATION = "photo-tagger"


def app_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def application() -> QApplication:
    """The process's QApplication (one per process; tests share theirs across the session)."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(ORGANISATION)
        QCoreApplication.setApplicationName(APPLICATION)
        app = QApplication(sys.argv[:1])
    return app  # type: ignore[return-value]


def last_library(qsettings: QSettings) -> Path | None:
    value = qsettings.value("library/last")
    return Path(str(value)) if value and Path(str(value)).is_file() else None


class Session:
    """One window on one library at a time; "Open Library" and a theme switch replace both."""

    def __init__(self, app: QApplication, settings: Settings, qsettings: QSettings, dark: bool | None = None,
                 **window_options: Any) -> None:
        self.app, self.settings, self.qsettings, self.options = app, settings, qsettings, window_options
        self.dark = dark
        self.window = None
        self.library: Library | None = None

    def open(self, library_path: Path):  # noqa: ANN201 - a MainWindow
        from photo_tagger.gui.main_window import MainWindow

        dark = self.dark if self.dark is not None else self.qsettings.value("view/dark", True, type=bool)
        apply_theme(self.app, dark=dark)
        self.library = Library.open(replace(self.settings, library_path=library_path))
        self.window = MainWindow(self.library, self.qsettings, **self.options)
        self.window.reopen_requested.connect(self._reopen)
        return self.window

    def _reopen(self, path: str) -> None:
        old_window, old_library = self.window, self.library
        if old_window.restore:
            old_window.save_settings()
            old_window.restore = False  # saved now, before the new window reads them; not again at close
        # The new window shows before the old one closes: closing the last window would end the app.
        self.open(Path(path)).show()
        self.qsettings.setValue("library/last", path)
        old_window.close()
        old_library.close()
        old_window.deleteLater()

    def close(self) -> None:
        if self.window is not None:
            self.window.shutdown()
        if self.library is not None:
            self.library.close()


def run(settings: Settings, *, explicit_library: bool = False, screenshot: Path | None = None,
        timeout_s: float = 30.0) -> int:
    """``photo-tagger gui``: show the window until it is closed, or write a screenshot and exit."""
    app = application()
    qsettings = app_settings()
    library_path = settings.library_path
    if not explicit_library and screenshot is None:
        library_path = last_library(qsettings) or library_path
    if screenshot is not None:
        # A screenshot is the same on every machine: no remembered geometry, no worker changing the library.
        session = Session(app, settings, qsettings, dark=True, background=False, restore=False)
        window = session.open(library_path)
        from photo_tagger.gui.screenshot import take_screenshot

        try:
            return take_screenshot(window, screenshot, timeout_s)
        finally:
            session.close()
    session = Session(app, settings, qsettings)
    session.open(library_path).show()
    try:
        return app.exec()
    finally:
        session.close()
