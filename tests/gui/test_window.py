"""The panels around the grid: detail, overlay, folders, failures, remembered settings, the screenshot."""

from __future__ import annotations

import shutil

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tests.gui.conftest import BROKEN, PHOTO_NAMES, select_first, wait_for


def test_detail_shows_the_photo_and_its_tags_by_state(window, library):
    select_first(window)
    assert window.detail.view.has_image()
    rows = window.detail.tags.rows()
    photo = window.detail.data.photos[0]
    _, tags = library.tags_of(photo.path)
    assert {(r.name, r.state, r.source) for r in rows} == {(t.name, t.state.value, t.source.value) for t in tags}
    glove = [r for r in rows if r.source == "glove"]
    assert glove and all(r.parent for r in glove)  # each GloVe tag names the tag it came from
    assert window.detail.title.text() == photo.path.rsplit("/", 1)[-1]


def test_the_overlay_draws_the_detectors_boxes(window, template):
    window.search.set_text(f'folder:"{template.album / "dog.jpg"}"')
    wait_for(lambda: window.model.rowCount() == 1)
    select_first(window)
    window.actions_by_name["boxes"].setChecked(True)
    wait_for(lambda: window.detail.view.boxes(), timeout=20, what="detection to finish")
    assert "dog" in {box.label for box in window.detail.view.boxes()}
    window.actions_by_name["boxes"].setChecked(False)
    assert not window.detail.view.show_boxes


def test_failed_photos_are_listed_with_their_reason(window):
    wait_for(lambda: window.failed.count() == 1, what="the failed list")
    item = window.failed.tree.topLevelItem(0)
    assert item.text(0) == BROKEN and item.text(1)
    assert window.progress.failed_button.text() == "1 failed"
    window.progress.failed_button.click()
    assert window.failed_dock.isVisible()


def test_folders_are_added_and_removed_with_dialogs(window, library, tmp_path, photos, monkeypatch):
    wait_for(lambda: window.sidebar.overview is not None)
    assert [(r.folder.path, r.photos) for r in window.sidebar.overview.folders] == [
        (str(library.folders()[0].path), len(PHOTO_NAMES) + 1)]
    extra = tmp_path / "more"
    extra.mkdir()
    shutil.copy(photos / "eagle.jpg", extra / "eagle.jpg")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(extra))
    window.sidebar.add_button.click()
    wait_for(lambda: len(window.sidebar.overview.folders) == 2, what="the new folder in the sidebar")
    assert str(extra) in [f.path for f in library.folders()]
    assert window.sidebar.counts["waiting"].text() == "1"
    item = next(window.sidebar.tree.topLevelItem(i) for i in range(3) if window.sidebar.tree.topLevelItem(i).text(0)
                == "more")
    window.sidebar.tree.setCurrentItem(item)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.sidebar.remove_button.click()
    wait_for(lambda: len(window.sidebar.overview.folders) == 1, what="the folder to go")
    assert str(extra) not in [f.path for f in library.folders()]


def test_settings_are_remembered(make_window, library):
    window = make_window(library, restore=True)
    window.set_tile_size(208)
    window.search.set_text("dog")
    wait_for(lambda: window.model.query == "dog")
    window.resize(700, 500)  # within the offscreen screen (800 x 600): restoreGeometry keeps a window on screen
    window.close()
    again = make_window(library, restore=True)
    assert again.tile_size() == 208
    assert again.search.text() == "dog" and again.model.query == "dog"
    assert (again.width(), again.height()) == (700, 500)
    assert again.qsettings.value("library/last") == str(library.settings.library_path)


def test_screenshot_is_written(qapp, library_settings, tmp_path, monkeypatch):
    from photo_tagger.cli import main

    monkeypatch.setenv("PHOTO_TAGGER_CACHE_DIR", str(library_settings.cache_dir))
    monkeypatch.setenv("PHOTO_TAGGER_MODELS_DIR", str(library_settings.models_dir))
    monkeypatch.setenv("PHOTO_TAGGER_OFFLINE", "1")
    target = tmp_path / "shot.png"
    assert main(["--library", str(library_settings.library_path), "gui", "--screenshot", str(target)]) == 0
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1280, 800)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_open_library_replaces_the_window(qapp, library_settings, settings, tmp_path):
    from photo_tagger.gui.app import Session, app_settings

    other = tmp_path / "other" / "library.sqlite"
    session = Session(qapp, library_settings, app_settings(), background=False, restore=False)
    first = session.open(library_settings.library_path)
    first.show()
    first.reopen_requested.emit(str(other))
    try:
        assert session.window is not first and not first.isVisible() and session.window.isVisible()
        assert session.library.settings.library_path == other and other.is_file()
        wait_for(session.window.model.has_searched)
        assert session.window.model.rowCount() == 0
    finally:
        session.window.close()
        session.close()
