"""The search box: results as you type, the query as run, errors inline."""

from __future__ import annotations

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import PHOTO_NAMES, wait_for


def test_the_window_opens_on_every_photo(window, library):
    assert window.model.rowCount() == len(PHOTO_NAMES) + 1  # the broken file is in the library too
    assert window.search.count.text() == f"{len(PHOTO_NAMES) + 1} photos"


def test_typing_searches_after_a_short_pause(window, library):
    QTest.keyClicks(window.search.field, "dog")
    wait_for(lambda: window.model.query == "dog", what="the search to run")
    expected = library.search("dog", limit=100)
    assert window.model.rowCount() == expected.total > 0
    wait_for(lambda: window.model.hit(0) is not None)
    assert [window.model.hit(row).photo_id for row in range(expected.total)] == [h.photo_id for h in expected.hits]
    assert window.search.info.text() == "searching for: dog"


def test_the_expanded_query_is_shown(window):
    window.search.set_text("~dog")
    wait_for(lambda: window.model.query == "~dog", timeout=30, what="GloVe to load and the search to run")
    text = window.search.info.text()
    assert text.startswith("searching for: (dog OR ") and "~" not in text


def test_a_bad_query_is_explained_inline_and_keeps_the_results(window):
    rows = window.model.rowCount()
    QTest.keyClicks(window.search.field, "dog (")
    wait_for(lambda: window.search.info.property("role") == "error", what="the error to show")
    assert "character" in window.search.info.text()
    assert window.search.field.property("error") is True
    assert QApplication.activeModalWidget() is None  # no dialog
    assert window.model.rowCount() == rows  # the last good results stay
    QTest.keyClicks(window.search.field, "beach OR dog)")
    wait_for(lambda: window.search.info.property("role") == "dim", what="the error to clear")
    assert window.model.query == "dog (beach OR dog)"


def test_clicking_a_folder_searches_it(window, template):
    wait_for(lambda: window.sidebar.overview is not None, what="the sidebar")
    item = window.sidebar.tree.topLevelItem(1)
    window.sidebar.tree.itemClicked.emit(item, 0)
    wait_for(lambda: window.model.query.startswith("folder:"), what="the folder search")
    assert str(template.album) in window.model.query
    assert window.model.rowCount() == len(PHOTO_NAMES) + 1
