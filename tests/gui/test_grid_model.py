"""The grid model pages through a large result without loading it: rows come page by page, off the GUI thread."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from photo_tagger.gui.grid_model import FAILURE_ROLE, PAGE_SIZE, PHOTO_ID_ROLE, PhotoGridModel
from photo_tagger.gui.tasks import Tasks
from photo_tagger.gui.thumbs import Thumbnails
from photo_tagger.library import Library
from photo_tagger.store import PhotoFile
from tests.gui.conftest import wait_for


def test_rows_arrive_page_by_page(qapp, settings, tmp_path):
    count = 5 * PAGE_SIZE + 7
    with Library.open(replace(settings, library_path=tmp_path / "lib.sqlite", cache_dir=tmp_path / "cache")) as library:
        folder = library.store.add_folder("/nowhere")
        library.store.upsert_photos(folder.id, [PhotoFile(f"/nowhere/{i:05d}.jpg", 1, i, f"{i:064x}")
                                                for i in range(count)])
        tasks = Tasks()
        model = PhotoGridModel(library, tasks, Thumbnails(library, tasks))
        model.search("")
        wait_for(model.has_searched)
        assert model.rowCount() == count and model.loaded_pages() == 1
        last = model.index(count - 1)
        assert model.data(last, PHOTO_ID_ROLE) is None  # not loaded yet: asks for its page
        wait_for(lambda: model.data(last, PHOTO_ID_ROLE) is not None, what="the last page")
        assert model.loaded_pages() == 2
        assert model.data(last, Qt.ItemDataRole.DisplayRole) == "00000.jpg"  # newest first
        assert model.data(last, Qt.ItemDataRole.DecorationRole) is None  # no file: a placeholder, then a reason
        wait_for(lambda: model.data(last, FAILURE_ROLE), what="the thumbnail to fail")
        resolve = model.hits_resolver([0, 2 * PAGE_SIZE + 1, count - 1])
        expected = [f"/nowhere/{i:05d}.jpg" for i in (count - 1, count - 2 * PAGE_SIZE - 2, 0)]
        assert [hit.path for hit in resolve()] == expected
        tasks.shutdown()
