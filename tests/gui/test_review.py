"""Reviewing through the widgets and keys; every decision is checked in the database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import select_first, wait_for


def item_for(window, name: str, state: str):
    from photo_tagger.gui.tag_list import ROW_ROLE

    items = window.detail.tags.findItems(name, Qt.MatchFlag.MatchRecursive | Qt.MatchFlag.MatchStartsWith, 0)
    return next(item for item in items if item.data(0, ROW_ROLE).name == name and item.data(0, ROW_ROLE).state == state)


def state_of(library, path: str, tag: str) -> str | None:
    _, tags = library.tags_of(path)
    return next((t.state.value for t in tags if t.name == tag), None)


def test_keys_accept_and_reject_the_current_suggestion(window, library):
    select_first(window)
    path = window.detail.data.photos[0].path
    first = window.detail.current_tag()
    assert first is not None and first.state == "suggested"
    QTest.keyClick(window.grid, Qt.Key.Key_A)
    wait_for(lambda: state_of(library, path, first.name) == "accepted", what="the accept to be stored")
    # The cursor moves on to the next suggestion, so R decides the next tag.
    wait_for(lambda: window.detail.current_tag() is not None and window.detail.current_tag().name != first.name)
    second = window.detail.current_tag()
    assert second.state == "suggested"
    QTest.keyClick(window.grid, Qt.Key.Key_R)
    wait_for(lambda: state_of(library, path, second.name) == "rejected", what="the reject to be stored")
    wait_for(lambda: {row.state for row in window.detail.tags.rows()} >= {"accepted", "rejected", "suggested"})


def test_buttons_accept_and_reject(window, library):
    select_first(window)
    path = window.detail.data.photos[0].path
    name = window.detail.current_tag().name
    QTest.mouseClick(window.detail.reject_button, Qt.MouseButton.LeftButton)
    wait_for(lambda: state_of(library, path, name) == "rejected", what="the reject to be stored")
    wait_for(lambda: any(r.name == name and r.state == "rejected" for r in window.detail.tags.rows()))
    # A rejected tag can still be accepted (the user changed their mind).
    window.detail.tags.setCurrentItem(item_for(window, name, "rejected"))
    QTest.mouseClick(window.detail.accept_button, Qt.MouseButton.LeftButton)
    wait_for(lambda: state_of(library, path, name) == "accepted", what="the accept to be stored")


def test_bulk_reject_acts_where_the_tag_is_suggested(window, library):
    window.grid.setFocus()
    QTest.keyClick(window.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    wait_for(lambda: window.detail.selected == window.model.rowCount() and window.detail.data is not None
             and len(window.detail.data.photos) == window.model.rowCount(), what="the selection's tags")
    row = max((r for r in window.detail.tags.rows() if r.state == "suggested"), key=lambda r: len(r.photo_ids))
    assert 1 < len(row.photo_ids) < window.model.rowCount()
    window.detail.tags.setCurrentItem(item_for(window, row.name, "suggested"))
    QTest.mouseClick(window.detail.reject_button, Qt.MouseButton.LeftButton)
    paths = {p.id: p.path for p in window.detail.data.photos}
    wait_for(lambda: all(state_of(library, paths[i], row.name) == "rejected" for i in row.photo_ids),
             what="the bulk reject to be stored")
    others = [path for photo_id, path in paths.items() if photo_id not in row.photo_ids]
    assert all(state_of(library, path, row.name) is None for path in others)  # no tag invented on the rest


def test_add_a_tag_with_completion(window, library):
    select_first(window)
    path = window.detail.data.photos[0].path
    known = window.detail.tags.rows()[0].name
    window.detail.add_field.setFocus()
    QTest.keyClicks(window.detail.add_field, known[:3])
    # Completions for "p" and "pe" may still arrive before those for the whole prefix: wait for the last ones.
    wait_for(lambda: known in window.detail.completions.stringList()
             and all(name.startswith(known[:3]) for name in window.detail.completions.stringList()),
             what="completions from the library's tags for the typed prefix")
    window.detail.completer.popup().hide()
    window.detail.add_field.clear()
    QTest.keyClicks(window.detail.add_field, "Summer Holiday")
    QTest.keyClick(window.detail.add_field, Qt.Key.Key_Return)
    wait_for(lambda: state_of(library, path, "summer holiday") == "accepted", what="the user tag to be stored")
    _, tags = library.tags_of(path)
    assert next(t for t in tags if t.name == "summer holiday").source.value == "user"


def test_review_mode_walks_one_tag_across_photos(window, library):
    tag = "dog"
    suggested = library.search(f"{tag} state:suggested", limit=100)
    assert suggested.total >= 2
    window.grid.setFocus()
    window.reviewer.start(tag)
    wait_for(lambda: window.model.query == 'dog state:suggested' and window.grid.currentIndex().row() == 0,
             what="the review to start")
    assert window.banner.isVisible() and "Reviewing" in window.banner.label.text()
    first, second = (hit.path for hit in suggested.hits[:2])
    QTest.keyClick(window.grid, Qt.Key.Key_A)
    QTest.keyClick(window.grid, Qt.Key.Key_R)
    wait_for(lambda: state_of(library, first, tag) == "accepted" and state_of(library, second, tag) == "rejected",
             what="both review decisions to be stored")
    assert window.model.data(window.model.index(0), Qt.ItemDataRole.UserRole + 4) == "accepted"  # the badge
    QTest.keyClick(window.grid, Qt.Key.Key_Escape)
    assert not window.reviewer.active and not window.banner.isVisible()
    wait_for(lambda: window.model.rowCount() == suggested.total - 2, what="the query to run again")


def test_quick_keys_decide_successive_suggestions(window, library):
    select_first(window)
    path = window.detail.data.photos[0].path
    names = [row.name for row in window.detail.tags.rows() if row.state == "suggested"][:3]
    for _ in names:  # faster than the database answers: the cursor must not wait for it
        QTest.keyClick(window.grid, Qt.Key.Key_A)
    wait_for(lambda: all(state_of(library, path, name) == "accepted" for name in names),
             what="three successive accepts to be stored")
