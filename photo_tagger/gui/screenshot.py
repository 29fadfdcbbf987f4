"""``photo-tagger gui --screenshot FILE``: the window at 1280 x 800 with the first photo selected, as a PNG.

It waits until what the picture shows has loaded (the first page, the visible thumbnails, the photo and its
tags), or until the timeout, whichever comes first; a timeout still writes the picture and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from photo_tagger.gui.main_window import MainWindow

log = logging.getLogger(__name__)

SIZE = (1280, 800)


def wait_until(condition: Callable[[], bool], deadline: float, steady_s: float = 0.0) -> bool:
    """Process events until ``condition()`` has held for ``steady_s`` seconds, or the deadline passes."""
    held_since: float | None = None
    while time.monotonic() < deadline:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if condition():
            held_since = held_since or time.monotonic()
            if time.monotonic() - held_since >= steady_s:
                return True
        else:
            held_since = None
        time.sleep(0.01)
    return False


def take_screenshot(window: MainWindow, path: Path, timeout_s: float = 30.0) -> int:
    deadline = time.monotonic() + timeout_s
    window.resize(*SIZE)
    window.show()
    ready = wait_until(window.model.has_searched, deadline)
    if window.model.rowCount() > 0:
        window.grid.setFocus()
        window.grid.select_row(0)
        ready = wait_until(lambda: window.detail.data is not None, deadline) and ready
    # Thumbnails are asked for when tiles are painted, so "settled" must hold across a few paints.
    ready = wait_until(window.settled, deadline, steady_s=0.3) and ready
    image = window.grab().toImage()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        log.error("could not write %s", path)
        return 1
    if not ready:
        log.warning("wrote %s before everything had loaded (timeout %.0f s)", path, timeout_s)
        return 1
    return 0
