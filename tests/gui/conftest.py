"""GUI fixtures: one offscreen QApplication per session, QSettings in a temporary folder, and a library tagged
once per session by the real worker and pipeline, copied for each test so decisions never leak between tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from photo_tagger.library import Library

PHOTO_NAMES = ["dog.jpg", "horses.jpg", "kite.jpg", "coral_pets.jpg", "giraffe.jpg", "person.jpg"]
BROKEN = "broken.jpg"


@dataclass(frozen=True)
class Template:
    album: Path
    library_path: Path
    cache_dir: Path


@pytest.fixture(scope="session")
def qapp(tmp_path_factory: pytest.TempPathFactory):
    from PySide6.QtCore import QSettings

    from photo_tagger.gui.app import application
    from photo_tagger.gui.theme import apply_theme

    # Before any QSettings object exists: nothing a test remembers reaches the user's real configuration.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("qsettings")))
    app = application()
    apply_theme(app, dark=True)
    return app


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, settings, tagger, photos: Path) -> Template:
    """Six real photos and one file that is not a photo, added and tagged with the real worker."""
    base = tmp_path_factory.mktemp("gui-library")
    album = base / "album"
    album.mkdir()
    for name in PHOTO_NAMES:
        shutil.copy(photos / name, album / name)
    (album / BROKEN).write_bytes(b"this is not a JPEG")
    result = Template(album, base / "library.sqlite", base / "cache")
    with Library.open(replace(settings, library_path=result.library_path, cache_dir=result.cache_dir)) as library:
        library.add_folder(album)
        library.worker(tagger=tagger).run(wait=True)
    return result


@pytest.fixture()
def library_settings(settings, template: Template, tmp_path: Path):
    copy = tmp_path / "library.sqlite"
    shutil.copy(template.library_path, copy)
    return replace(settings, library_path=copy, cache_dir=template.cache_dir)


@pytest.fixture()
def library(library_settings):
    with Library.open(library_settings) as opened:
        yield opened


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    from photo_tagger.gui.screenshot import wait_until

    if not wait_until(lambda: bool(condition()), time.monotonic() + timeout):
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture()
def make_window(qapp):
    """Build main windows on a library; each is closed (worker and pools stopped) after the test."""
    from photo_tagger.gui.app import app_settings
    from photo_tagger.gui.main_window import MainWindow

    windows = []

    def make(library: Library, **options) -> MainWindow:
        options.setdefault("background", False)
        options.setdefault("restore", False)
        window = MainWindow(library, app_settings(), **options)
        if not options["restore"]:
            window.resize(1280, 800)
        window.show()
        wait_for(window.model.has_searched, what="the first search")
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        window.deleteLater()
    qapp.processEvents()


@pytest.fixture()
def window(make_window, library):
    return make_window(library)


def select_first(window) -> None:
    """Click the first tile and wait for the detail panel to show that photo."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.grid.setFocus()
    rect = window.grid.visualRect(window.model.index(0))
    QTest.mouseClick(window.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    wait_for(lambda: window.detail.data is not None and window.detail.selected == 1 and window.settled(),
             what="the detail panel")
