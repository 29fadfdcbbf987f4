"""The worker and the watcher run behind the window; their events reach the widgets on the GUI thread."""

from __future__ import annotations

import shutil
import threading

from photo_tagger.library import Library
from tests.gui.conftest import wait_for


def test_worker_tags_in_the_background_and_reports_progress(make_window, library_settings, tmp_path, photos, tagger):
    album = tmp_path / "new"
    album.mkdir()
    for name in ("kite.jpg", "eagle.jpg"):
        shutil.copy(photos / name, album / name)
    with Library.open(library_settings) as library:
        library.remove_folder(library.folders()[0].path)
        library.add_folder(album)
        window = make_window(library, background=True, tagger=tagger)
        received_on = []
        window.background.progress.connect(lambda event: received_on.append(threading.current_thread()))
        assert window.background._thread is not threading.current_thread()
        wait_for(lambda: library.queued() == 0 and window.progress.last is not None
                 and window.progress.last.done == 2, timeout=30, what="the worker to tag both photos")
        assert received_on and set(received_on) == {threading.main_thread()}
        assert window.progress.label.text().startswith("Tagged 2 of 2") or "2 of 2" in window.progress.label.text()
        wait_for(lambda: window.model.rowCount() == 2 and window.sidebar.counts["tagged"].text() == "2",
                 what="the views to catch up")
        # The watcher sees a photo copied in; the worker tags it; the grid shows it.
        shutil.copy(photos / "giraffe.jpg", album / "giraffe.jpg")
        wait_for(lambda: window.model.rowCount() == 3 and window.sidebar.counts["tagged"].text() == "3",
                 timeout=30, what="the watcher and the worker to bring in the new photo")
        window.progress.pause_button.click()
        assert window.background.paused and window.actions_by_name["pause"].isChecked()
        window.progress.pause_button.click()
        assert not window.background.paused
        worker_thread = window.background._thread
        window.close()
        assert not worker_thread.is_alive()
