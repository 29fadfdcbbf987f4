"""The desktop app on a 100,000-photo library: time to the first grid paint, scrolling, and disk reads in data().

    .venv/bin/python benchmarks/bench_gui.py                 # builds the library first (about a minute)
    .venv/bin/python benchmarks/bench_gui.py --keep DIR      # build into DIR and keep it
    .venv/bin/python benchmarks/bench_gui.py --reuse DIR     # measure a library kept with --keep

The library is the search benchmark's synthetic one (``bench_search.build``: real schema, bulk INSERTs, ~2 million
photo-tag rows), with real 256-pixel thumbnails in the cache folder for the 400 newest photos (the first screens);
the others have no file, so their tiles end as "no preview" after a load attempt, like photos on an unplugged
drive.

Each run is a fresh process (``--child``), so imports count. Times are measured from the parent's ``Popen`` (the
process start) and from the start of ``MainWindow(...)``:

- window built: the constructor returned (the first search is already on its way, on the query pool);
- first grid paint: the grid's viewport got its first paint event;
- first paint with photos: the first paint after the first page (and the row count: 100,000) arrived;
- thumbnails settled: every tile on screen has its thumbnail or its "no preview";
- then 30 jumps of the scroll bar across the whole range: the repaint right after each jump (GUI thread, tiles
  blank while their page loads), and the time until every visible row has its page;
- a search typed into the box ("dog beach"), until the grid paints its results.

Every ``data()`` call of the grid model is wrapped: while one runs on the GUI thread, file opens, ``stat`` calls,
directory listings, SQL statements (any engine) and ``QImage`` file loads in the GUI's image module are counted.
The goal is 0: the model answers from memory and queues everything else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

GOAL_S = 2.0
THUMBNAILS = 400
SCROLL_JUMPS = 30


# -- parent: build, run children, print the table ----------------------------------------------------------------


def make_thumbnails(cache_dir: Path, photos: int, count: int) -> None:
    """Real thumbnails for the newest ``count`` photos (photo id i has the content hash ``i - 1`` in hex)."""
    from PIL import Image

    from photo_tagger.thumbnails import thumbnail_path, write_thumbnail

    sources = sorted((REPO.parent / "shared" / "photos").glob("*.jpg"))
    images = [Image.open(path).convert("RGB") for path in sources]
    for n, photo_id in enumerate(range(photos, max(photos - count, 0), -1)):
        write_thumbnail(images[n % len(images)], thumbnail_path(cache_dir, f"{photo_id - 1:064x}"))


def run_child(folder: Path, timeout: float) -> dict:
    started = time.time()
    process = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), "--t0", repr(started)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        sys.exit(f"child failed ({process.returncode}):\n{process.stdout}\n{process.stderr}")
    return json.loads(lines[-1])


def print_table(runs: list[dict]) -> None:
    def row(label: str, key: str, unit: str = "s", scale: float = 1.0, goal: str = "") -> None:
        values = [run[key] * scale for run in runs]
        cells = " ".join(f"{value:>8.3f}" if unit == "s" else f"{value:>8.1f}" for value in values)
        print(f"{label:<62} {cells} {unit:>3}  {goal}")

    first = runs[0]
    print(f"\n{first['rows']:,} photos in the grid; {len(runs)} runs (fresh processes)\n")
    headers = " ".join(f"{'run ' + str(i + 1):>8}" for i in range(len(runs)))
    print(f"{'stage':<62} {headers}")
    print("-" * (67 + 9 * len(runs)))
    paint = max(run["from_start"]["first_rows_paint"] for run in runs)
    verdict = f"<- goal <= {GOAL_S:.0f} s: {'met' if paint <= GOAL_S else 'NOT met'} (worst {paint:.2f} s)"
    for key, label in (("imports", "imports done"),
                       ("window_built", "window built"), ("first_paint", "first grid paint"),
                       ("first_rows_paint", "first grid paint with photos"),
                       ("thumbnails", "thumbnails on screen settled")):  # fmt: skip
        for run in runs:
            run[f"start_{key}"] = run["from_start"][key]
        row(f"from process start: {label}", f"start_{key}", goal=verdict if key == "first_rows_paint" else "")
    for key, label in (("first_paint", "first grid paint"), ("first_rows_paint", "first grid paint with photos")):
        for run in runs:
            run[f"window_{key}"] = run["from_window"][key]
        row(f"from MainWindow(...): {label}", f"window_{key}")
    row("scroll jump: repaint on the GUI thread, median", "repaint_median_ms", "ms")
    row("scroll jump: repaint on the GUI thread, max", "repaint_max_ms", "ms")
    row("scroll jump: until the visible rows have their page, median", "page_median_ms", "ms")
    row("scroll jump: until the visible rows have their page, max", "page_max_ms", "ms")
    row("search 'dog beach' entered: until its results are painted", "search_paint_ms", "ms")
    print()
    for run_number, run in enumerate(runs, 1):
        print(f"run {run_number}: data() calls on the GUI thread: {run['data_calls']:,}, on other threads: "
              f"{run['data_calls_elsewhere']}; disk reads inside data() on the GUI thread: {run['disk_reads']} "
              f"{run['disk_detail'] or ''}  (expect 0)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the library in this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="measure a library kept with --keep")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.t0)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as temporary:
        folder = args.reuse or args.keep or Path(temporary)
        if not args.reuse:
            from bench_search import build

            folder.mkdir(parents=True, exist_ok=True)
            stats = build(folder / "library.sqlite", args.photos, 2_000, (12, 36), 7)
            make_thumbnails(folder / "cache", args.photos, THUMBNAILS)
            print(f"built {args.photos:,} photos, {stats['rows']:,} photo-tag rows in {stats['total_s']:.0f} s, "
                  f"{THUMBNAILS} thumbnails")
        print_table([run_child(folder, timeout=300) for _ in range(args.runs)])


# -- child: one measured start of the app ------------------------------------------------------------------------


class Probe:
    """Counts ``data()`` calls and the disk reads made while one runs on the GUI thread."""

    def __init__(self) -> None:
        import threading

        self.threading = threading
        self.depth = 0
        self.calls = self.calls_elsewhere = 0
        self.reads: dict[str, int] = {}

    def on_gui_thread(self) -> bool:
        return self.threading.current_thread() is self.threading.main_thread()

    def count(self, what: str) -> None:
        if self.depth and self.on_gui_thread():
            self.reads[what] = self.reads.get(what, 0) + 1

    def guard(self, what: str, function):  # noqa: ANN001, ANN201
        def guarded(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            self.count(what)
            return function(*args, **kwargs)

        return guarded

    def install(self) -> None:
        import builtins
        import io

        import sqlalchemy as sa
        from PySide6.QtGui import QImage

        import photo_tagger.gui.images as gui_images
        from photo_tagger.gui.grid_model import PhotoGridModel

        builtins.open = io.open = self.guard("open", builtins.open)
        for name in ("stat", "lstat", "open", "scandir", "listdir"):
            setattr(os, name, self.guard(f"os.{name}", getattr(os, name)))
        sa.event.listen(sa.Engine, "before_cursor_execute", lambda *args: self.count("sql"))

        probe = self

        class CountingQImage(QImage):
            def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
                if args and isinstance(args[0], str):
                    probe.count("QImage(file)")
                super().__init__(*args, **kwargs)

        gui_images.QImage = CountingQImage
        original = PhotoGridModel.data

        def data(model, index, role=0):  # noqa: ANN001, ANN202
            if not probe.on_gui_thread():
                probe.calls_elsewhere += 1
                return original(model, index, role)
            probe.calls += 1
            probe.depth += 1
            try:
                return original(model, index, role)
            finally:
                probe.depth -= 1

        PhotoGridModel.data = data


def measure(folder: Path, t0: float) -> dict:
    probe = Probe()
    from dataclasses import replace

    from PySide6.QtCore import QEvent, QObject, QPoint, QSettings

    from photo_tagger.config import Settings
    from photo_tagger.gui.app import app_settings, application
    from photo_tagger.gui.grid_model import PHOTO_ID_ROLE
    from photo_tagger.gui.main_window import MainWindow
    from photo_tagger.gui.screenshot import wait_until
    from photo_tagger.gui.theme import apply_theme
    from photo_tagger.library import Library

    imports = time.time()
    probe.install()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "qsettings"))
    app = application()
    apply_theme(app)
    settings = replace(Settings.from_env({"PHOTO_TAGGER_DATA_DIR": str(folder), "PHOTO_TAGGER_OFFLINE": "1"}),
                       library_path=folder / "library.sqlite", cache_dir=folder / "cache")
    library = Library.open(settings)
    paints: dict[str, float] = {}

    class PaintSpy(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                now = time.time()
                paints.setdefault("first_paint", now)
                if window.model.rowCount() > 0:
                    paints.setdefault("first_rows_paint", now)
                paints["last"] = now
            return False

    window_started = time.time()
    window = MainWindow(library, app_settings(), background=False, restore=False)
    window_built = time.time()
    spy = PaintSpy()
    window.grid.viewport().installEventFilter(spy)
    window.resize(1280, 800)
    window.show()
    deadline = time.monotonic() + 60
    wait_until(lambda: "first_rows_paint" in paints, deadline)
    wait_until(window.settled, deadline, steady_s=0.3)
    thumbnails = time.time()
    grid, model = window.grid, window.model
    rows = model.rowCount()

    def visible_rows() -> range:
        """The rows of the tiles on screen: from the top-left tile, whole rows of tiles down to the bottom edge."""
        first = max(grid.indexAt(QPoint(4, 4)).row(), 0)
        columns = max(grid.viewport().width() // grid.gridSize().width(), 1)
        lines = grid.viewport().height() // grid.gridSize().height() + 2
        return range(first, min(first + columns * lines, model.rowCount()))

    repaints, pages = [], []
    bar = grid.verticalScrollBar()
    for jump in range(1, SCROLL_JUMPS + 1):
        bar.setValue(int(bar.maximum() * jump / SCROLL_JUMPS))
        started = time.perf_counter()
        grid.viewport().repaint()
        repaints.append((time.perf_counter() - started) * 1000)
        wait_until(lambda: all(model.data(model.index(row), PHOTO_ID_ROLE) is not None for row in visible_rows()),
                   time.monotonic() + 10)
        pages.append((time.perf_counter() - started) * 1000)
    bar.setValue(0)
    wait_until(window.settled, time.monotonic() + 10, steady_s=0.2)
    typed = time.perf_counter()
    window.search.set_text("dog beach")
    wait_until(lambda: model.query == "dog beach", time.monotonic() + 10)
    painted = paints["last"]
    wait_until(lambda: paints["last"] > painted, time.monotonic() + 10)
    search_paint_ms = (time.perf_counter() - typed) * 1000
    window.shutdown()
    library.close()
    return {
        "rows": rows,
        "from_start": {"imports": imports - t0, "window_built": window_built - t0,
                       "first_paint": paints["first_paint"] - t0,
                       "first_rows_paint": paints["first_rows_paint"] - t0, "thumbnails": thumbnails - t0},
        "from_window": {"first_paint": paints["first_paint"] - window_started,
                        "first_rows_paint": paints["first_rows_paint"] - window_started},
        "repaint_median_ms": statistics.median(repaints), "repaint_max_ms": max(repaints),
        "page_median_ms": statistics.median(pages), "page_max_ms": max(pages), "search_paint_ms": search_paint_ms,
        "data_calls": probe.calls, "data_calls_elsewhere": probe.calls_elsewhere,
        "disk_reads": sum(probe.reads.values()), "disk_detail": probe.reads,
    }  # fmt: skip


if __name__ == "__main__":
    main()
