"""What the library commands share: opening the library, running the worker with a progress bar, JSON output."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from photo_tagger.config import Settings

if TYPE_CHECKING:
    from photo_tagger.library import Library


class CommandFailed(Exception):
    """A command could not do its job for a reason outside the user's call (a locked or damaged database)."""


@contextmanager
def open_library(settings: Settings) -> Iterator[Library]:
    from photo_tagger.cli import UsageError
    from photo_tagger.library import Library, LibraryError
    from photo_tagger.store import QueryError, StoreError

    try:
        library = Library.open(settings)
    except StoreError as error:
        raise CommandFailed(str(error)) from error
    try:
        yield library
    except (LibraryError, QueryError) as error:
        raise UsageError(error.pointer() + "\n" + str(error) if isinstance(error, QueryError) else str(error)) from None
    except StoreError as error:
        raise CommandFailed(str(error)) from error
    finally:
        library.close()


def run_worker_with_progress(library: Library, show: bool | None = None) -> None:
    """Work through the queue with a progress bar; if another process owns the worker, wait for it instead."""
    from photo_tagger.cli.progress import progress_bar
    from photo_tagger.worker import WorkerBusyError

    with progress_bar(library.queued(), "tagging", enabled=show) as bar:
        def update(event) -> None:  # noqa: ANN001 - WorkerProgress
            bar.total = event.total
            bar.n = event.done
            bar.set_postfix_str(f"{event.failed} failed" if event.failed else "", refresh=False)
            bar.refresh()

        worker = library.worker(on_progress=update)
        try:
            worker.run(wait=True)
        except WorkerBusyError as busy:
            print(f"photo-tagger: {busy}; waiting for it to empty the queue", file=sys.stderr)
            while (left := library.queued()) > 0:
                bar.n = max(0, (bar.total or left) - left)
                bar.refresh()
                time.sleep(0.5)
