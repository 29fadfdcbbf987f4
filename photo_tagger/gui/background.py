"""The long-running work behind the window: the tagging worker and the folder watcher, bridged into Qt signals.

Both run on their own threads for as long as the window is open and report through plain callbacks (the core
knows nothing of Qt). Each callback here only emits a signal; Qt sees that the receivers live on the GUI thread
and delivers the signal queued, so widgets update on the GUI thread and the worker never waits for a repaint.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from photo_tagger.library import Library
from photo_tagger.worker import Worker, WorkerBusyError

log = logging.getLogger(__name__)


class Background(QObject):
    progress = Signal(object)  # WorkerProgress, after each photo
    stopped = Signal(str)  # the worker ended: "" after stop(), else why (another process owns it, an error)
    changes = Signal(dict)  # the watcher recorded a batch: {"changed": 3, "queued": 3, ...}

    def __init__(self, library: Library, tagger: Any = None, watch: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.worker: Worker = library.worker(on_progress=self.progress.emit, tagger=tagger)
        self.watch = watch
        self.watcher = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="photo-tagger-gui-worker", daemon=True)
        self._thread.start()
        if self.watch:
            from photo_tagger.sync import watch_library

            try:
                self.watcher = watch_library(self.library, on_applied=self.changes.emit)
            except Exception:  # the app stays useful without live updates; a rescan still works
                log.exception("could not watch the library's folders")

    def _work(self) -> None:
        try:
            self.worker.run(wait=False)
        except WorkerBusyError as busy:
            self.stopped.emit(f"Not tagging here: {busy}.")
            return
        except Exception as error:
            log.exception("the tagging worker stopped")
            self.stopped.emit(f"Tagging stopped: {error}")
            return
        self.stopped.emit("")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def paused(self) -> bool:
        return self.worker.paused

    def pause(self) -> None:
        self.worker.pause()

    def resume(self) -> None:
        self.worker.resume()

    def folder_added(self, path: str) -> None:
        if self.watcher is not None:
            self.watcher.add_folder(path)

    def folder_removed(self, path: str) -> None:
        if self.watcher is not None:
            self.watcher.remove_folder(path)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching, let the worker write what it has in hand, and wait for both."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self.worker.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the tagging worker did not stop within %.0f s", timeout)
