"""``photo-tagger watch``: watcher + worker, headless, until Ctrl-C; then both stop cleanly."""

from __future__ import annotations

import argparse
import signal
import threading

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debounce", type=float, default=1.0, metavar="S",
                        help="seconds a file must be quiet (and its size stable) before it is read")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library
    from photo_tagger.sync import watch_library
    from photo_tagger.worker import WorkerBusyError

    stop = threading.Event()
    # SIGTERM (a service manager stopping us) ends as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_library(settings) as library:
        folders = [f.path for f in library.folders() if f.watched]
        print(f"watching {len(folders)} folder{'s' if len(folders) != 1 else ''}: {', '.join(folders) or '(none)'}",
              flush=True)

        def report(counts: dict[str, int]) -> None:
            shown = ", ".join(f"{value} {name}" for name, value in counts.items() if value)
            if shown:
                print(shown, flush=True)

        def progress(event) -> None:  # noqa: ANN001 - WorkerProgress
            if event.current:
                print(f"tagged {event.current}", flush=True)

        worker = library.worker(on_progress=progress)

        def work() -> None:
            try:
                worker.run(wait=False)
            except WorkerBusyError as busy:  # the GUI or another `watch` is tagging: queue jobs for it
                print(f"{busy}; only watching", flush=True)

        worker_thread = threading.Thread(target=work, name="worker")
        worker_thread.start()
        watcher = watch_library(library, on_applied=report, debounce=args.debounce)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("stopping ...", flush=True)
        watcher.stop()
        worker.stop()
        worker_thread.join()
    print("stopped", flush=True)
    return 0
