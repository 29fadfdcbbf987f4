"""The main window's menus and keyboard shortcuts.

Single-letter shortcuts (A, R, S, T, B) are window-wide, yet typing in a text field is safe: a line edit claims
printable keys before shortcuts see them (Qt's ShortcutOverride), so "a" in the search box is just an "a".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from photo_tagger.gui import icons

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow

SYNTAX_HELP = """<p>Type tags to find photos; results appear as you type.</p>
<table cellspacing="4">
<tr><td><code>dog beach</code></td><td>tagged dog <i>and</i> beach</td></tr>
<tr><td><code>dog OR cat</code></td><td>either one</td></tr>
<tr><td><code>-night</code></td><td>not tagged night</td></tr>
<tr><td><code>"golden retriever"</code></td><td>a tag with a space</td></tr>
<tr><td><code>~dog</code></td><td>dog or a word close to it (GloVe)</td></tr>
<tr><td><code>date:2021-06</code>, <code>date:2019..2021</code></td><td>taken then</td></tr>
<tr><td><code>folder:/home/me/Pictures</code></td><td>in that folder</td></tr>
<tr><td><code>source:detector</code></td><td>found by the tagger, detector, glove or you (user)</td></tr>
<tr><td><code>state:suggested</code></td><td>suggested, accepted or rejected</td></tr>
</table>"""


def build_menus(window: MainWindow) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    bar = window.menuBar()

    def add(menu, name: str, text: str, slot: Callable | None, shortcut: str | None = None,  # noqa: ANN001
            icon: str | None = None, checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if icon:
            action.setIcon(icons.icon(icon))
        action.setCheckable(checkable)
        action.setStatusTip(tip)
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        menu.addAction(action)
        window.addAction(action)  # shortcuts work wherever the focus is in the window
        actions[name] = action
        return action

    file = bar.addMenu("&File")
    add(file, "add_folder", "&Add Folder\u2026", window.choose_folder, "Ctrl+Shift+O", "folder-plus")
    add(file, "open_library", "&Open Library\u2026", lambda: _open_library(window), "Ctrl+O")
    file.addSeparator()
    add(file, "quit", "&Quit", window.close, "Ctrl+Q")

    edit = bar.addMenu("&Edit")
    add(edit, "find", "&Find", lambda: (window.search.field.setFocus(), window.search.field.selectAll()), "Ctrl+F",
        "search")
    add(edit, "select_all", "Select &All Photos", window.grid.selectAll, "Ctrl+A")
    edit.addSeparator()
    add(edit, "accept", "&Accept Tag", lambda: window.decide_current("accept"), "A", "check",
        tip="Accept the selected suggestion on the selected photos")
    add(edit, "reject", "&Reject Tag", lambda: window.decide_current("reject"), "R", "cross",
        tip="Reject the selected tag on the selected photos")
    add(edit, "add_tag", "Add &Tag\u2026", lambda: window.detail.add_field.setFocus(), "T", "tag")

    view = bar.addMenu("&View")
    add(view, "boxes", "Show Detected &Objects", window.set_show_boxes, "B", "boxes", checkable=True,
        tip="Draw the object detector's boxes over the photo")
    view.addAction(window.failed_dock.toggleViewAction())
    view.addSeparator()
    add(view, "zoom_in", "&Larger Thumbnails", lambda: window.zoom(1), "Ctrl++")
    add(view, "zoom_out", "&Smaller Thumbnails", lambda: window.zoom(-1), "Ctrl+-")
    dark = add(view, "dark", "&Dark Theme", None, checkable=True)
    dark.setChecked(window.qsettings.value("view/dark", True, type=bool))
    dark.toggled.connect(lambda on: _switch_theme(window, on))

    review = bar.addMenu("&Review")
    add(review, "review", "Review a &Tag\u2026", window.review_tag, "Ctrl+R", "review",
        tip="Walk through every photo on which a tag is suggested, one key per decision")
    add(review, "skip", "&Skip Photo", lambda: window.reviewer.step(1) if window.reviewer.active else None, "S")
    add(review, "finish", "&Finish Review", window.reviewer.finish, "Esc")

    library = bar.addMenu("&Library")
    add(library, "rescan", "&Rescan Folders", window.rescan, "F5", "refresh")
    add(library, "pause", "&Pause Tagging", window.progress.pause_button.setChecked, "Ctrl+P", "pause",
        checkable=True)
    library.addSeparator()
    add(library, "retag", "Re-&tag Library\u2026", lambda: _retag(window),
        tip="Show what the current models change in the suggestions, then apply it; decisions are kept")
    add(library, "learn", "&Learn from My Tags\u2026", lambda: _learn(window),
        tip="Learn a personal head from your accepted, rejected and added tags")

    help_menu = bar.addMenu("&Help")
    add(help_menu, "syntax", "Search &Syntax", lambda: QMessageBox.information(window, "Search syntax", SYNTAX_HELP),
        "F1")
    return actions


def _open_library(window: MainWindow) -> None:
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(window, "Open a library", str(window.settings.library_path.parent),
                                          "photo-tagger libraries (*.sqlite);;All files (*)")
    if path:
        window.reopen_requested.emit(path)


def _retag(window: MainWindow) -> None:
    from photo_tagger.gui.retag_dialog import open_retag

    open_retag(window)


def _learn(window: MainWindow) -> None:
    from photo_tagger.gui.learn_dialog import start_learning

    start_learning(window)


def _switch_theme(window: MainWindow, dark: bool) -> None:
    window.qsettings.setValue("view/dark", dark)
    # Icons are drawn in the theme's colours, so the window is rebuilt on the same library.
    window.reopen_requested.emit(str(window.settings.library_path))
