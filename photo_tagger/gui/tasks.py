"""The one background-task primitive of the GUI: run a function on a pool, get its result on the GUI thread.

``tasks.run("query", fn, on_done)`` runs ``fn()`` on the named pool and calls ``on_done(result)`` later on the GUI
thread (``on_error(exception)`` if it raised). Results travel through one long-lived QObject's signal, which Qt
delivers queued to the thread that object lives in, so a callback never runs on a pool thread and never touches a
widget from one (Picard's ``run_task`` / ``to_main``).

A pool per latency class, so a click never waits behind bulk work:

- ``query``: searches, result pages, one photo's tags, tag completion. Milliseconds each; two threads so a
  ``~word`` search loading GloVe does not hold up the page the grid is waiting for.
- ``thumbnails``: small JPEGs from the cache folder (or a decode when a photo has none yet). Cleared whenever the
  grid scrolls or changes, so it only ever holds what is on screen.
- ``images``: the large photo of the detail panel and object detection for the overlay: tens of milliseconds.
- ``writes``: decisions, adding and removing folders. One thread, so decisions land in the order they were made.
- ``bulk``: the library-wide passes, re-tag and "learn from my tags": seconds to minutes each. One thread, and a
  pool of their own so a decision never waits behind them.

The tagging worker and the folder watcher are not tasks: they run for as long as the window is open, on their
own threads (see :mod:`photo_tagger.gui.background`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

POOLS = {"query": 2, "thumbnails": 2, "images": 1, "writes": 1, "bulk": 1}

Callback = Callable[[Any], None]


class _Poster(QObject):
    """Lives on the GUI thread; a signal emitted from any thread runs the callback there."""

    deliver = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._call)

    @Slot(object, object)
    def _call(self, callback: Callback, value: object) -> None:
        try:
            callback(value)
        except RuntimeError as error:  # the widget the callback belongs to was closed meanwhile
            if "already deleted" not in str(error):
                raise
            log.debug("dropped a result for a deleted widget: %s", error)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], on_done: Callback | None, on_error: Callback | None,
                 poster: _Poster) -> None:
        super().__init__()
        self.fn, self.on_done, self.on_error, self.poster = fn, on_done, on_error, poster

    def run(self) -> None:
        try:
            value = self.fn()
        except Exception as error:  # reported to the caller; a task must never take its pool thread down
            if self.on_error is None:
                log.exception("background task failed")
            else:
                self.poster.deliver.emit(self.on_error, error)
            return
        if self.on_done is not None:
            self.poster.deliver.emit(self.on_done, value)


class Tasks:
    """The GUI's thread pools. Create one on the GUI thread; call :meth:`shutdown` before closing the library."""

    def __init__(self, sizes: dict[str, int] | None = None) -> None:
        self._poster = _Poster()
        self.pools: dict[str, QThreadPool] = {}
        for name, size in (sizes or POOLS).items():
            pool = QThreadPool()
            pool.setMaxThreadCount(size)
            pool.setObjectName(name)
            self.pools[name] = pool

    def run(self, pool: str, fn: Callable[[], Any], on_done: Callback | None = None,
            on_error: Callback | None = None, priority: int = 0) -> None:
        """Queue ``fn`` on ``pool``; higher ``priority`` runs first among the tasks still waiting."""
        self.pools[pool].start(_Task(fn, on_done, on_error, self._poster), priority)

    def cancel_pending(self, pool: str) -> None:
        """Drop the tasks of ``pool`` that have not started yet (the running ones finish)."""
        self.pools[pool].clear()

    def idle(self) -> bool:
        return all(pool.activeThreadCount() == 0 for pool in self.pools.values())

    def wait(self, timeout_ms: int = 5000) -> bool:
        return all(pool.waitForDone(timeout_ms) for pool in self.pools.values())

    def shutdown(self, timeout_ms: int = 5000) -> None:
        for pool in self.pools.values():
            pool.clear()
        if not self.wait(timeout_ms):
            log.warning("background tasks still running after %d ms", timeout_ms)
