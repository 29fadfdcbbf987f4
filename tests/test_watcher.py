"""The folder watcher against the real watchdog observer (inotify here) on real files in temporary folders.

Timers are short (debounce 0.2 s, polls 0.05 s apart) and every wait is for an expected batch, with a deadline.
A test that something is *not* reported writes a sentinel photo afterwards and waits for it: events are handled
in order, so by then the ignored ones would have shown up.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from photo_tagger.watcher import FolderChanges, FolderWatcher, _Coalescer

DEBOUNCE = 0.2
POLL = 0.05
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4  # the watcher never decodes; the bytes only look the part


class Recorder:
    """The on_changes callback: keeps every batch and lets a test wait for the one it expects."""

    def __init__(self, fail_times: int = 0) -> None:
        self.batches: list[FolderChanges] = []
        self.arrived: list[float] = []
        self.sizes: dict[str, list[int]] = {}  # size of each changed file when it was reported
        self._fail_times = fail_times
        self._cond = threading.Condition()

    def __call__(self, batch: FolderChanges) -> None:
        with self._cond:
            self.batches.append(batch)
            self.arrived.append(time.monotonic())
            for path in batch.changed:
                self.sizes.setdefault(path, []).append(os.path.getsize(path) if os.path.exists(path) else -1)
            self._cond.notify_all()
        if self._fail_times:
            self._fail_times -= 1
            raise RuntimeError("callback failed on purpose")

    @property
    def changed(self) -> list[str]:
        return [p for b in self.batches for p in b.changed]

    @property
    def deleted(self) -> list[str]:
        return [p for b in self.batches for p in b.deleted]

    @property
    def moved(self) -> list[tuple[str, str]]:
        return [m for b in self.batches for m in b.moved]

    @property
    def deleted_dirs(self) -> list[str]:
        return [p for b in self.batches for p in b.deleted_dirs]

    def overflows_after(self, moment: float) -> int:
        return sum(1 for b, t in zip(self.batches, self.arrived, strict=True) if b.overflow and t >= moment)

    def wait_for(self, predicate: Callable[[Recorder], bool], timeout: float = 5.0, *, must: bool = True) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    if must:
                        pytest.fail(f"no expected batch within {timeout} s; got {self.batches}")
                    return False
                self._cond.wait(left)
        return True


def photo(path: Path, data: bytes = JPEG) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    return folder


@pytest.fixture
def make_watcher() -> Iterator[Callable[..., FolderWatcher]]:
    watchers: list[FolderWatcher] = []

    def make(folders, on_changes, **options) -> FolderWatcher:
        options = {"debounce": DEBOUNCE, "poll_interval": POLL, **options}
        watcher = FolderWatcher(folders, on_changes, **options)
        watchers.append(watcher)
        return watcher

    yield make
    for watcher in watchers:
        watcher.stop()


@pytest.fixture
def rec(library: Path, make_watcher) -> Recorder:
    """A started watcher on ``library``; the test gets its recorder."""
    recorder = Recorder()
    make_watcher([library], recorder).start()
    return recorder


def settle(rec: Recorder, folder: Path) -> None:
    """Write a sentinel photo and wait for it: everything done before it has been handled by then."""
    sentinel = photo(folder / f"sentinel-{len(rec.batches)}.jpg")
    rec.wait_for(lambda r: sentinel in r.changed)


# ---- single files -------------------------------------------------------------------------------------------


def test_created_photo_is_reported_once(rec: Recorder, library: Path) -> None:
    path = photo(library / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    settle(rec, library)
    assert rec.changed.count(path) == 1
    assert rec.sizes[path] == [len(JPEG)]


def test_slow_copy_is_reported_once_after_its_last_chunk(rec: Recorder, library: Path) -> None:
    path = library / "slow.jpg"
    chunks = 6  # 6 x 0.08 s: each pause is longer than a poll, all together longer than the debounce
    with open(path, "wb") as f:
        for _ in range(chunks):
            f.write(JPEG)
            f.flush()
            time.sleep(0.08)
        last_chunk = time.monotonic()
    rec.wait_for(lambda r: str(path) in r.changed)
    settle(rec, library)
    assert rec.changed.count(str(path)) == 1
    assert rec.arrived[next(i for i, b in enumerate(rec.batches) if str(path) in b.changed)] >= last_chunk
    assert rec.sizes[str(path)] == [chunks * len(JPEG)]


def test_modified_photo_is_reported_changed(rec: Recorder, library: Path) -> None:
    path = photo(library / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    with open(path, "ab") as f:
        f.write(b"more")
    rec.wait_for(lambda r: r.changed.count(path) == 2)
    assert rec.sizes[path] == [len(JPEG), len(JPEG) + 4]


def test_deleted_photo_is_reported_deleted(rec: Recorder, library: Path) -> None:
    path = photo(library / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    os.remove(path)
    rec.wait_for(lambda r: path in r.deleted)
    assert rec.deleted == [path]


def test_created_then_deleted_before_stable_reports_nothing(rec: Recorder, library: Path) -> None:
    path = photo(library / "brief.jpg")
    os.remove(path)
    settle(rec, library)
    assert path not in rec.changed
    assert path not in rec.deleted


def test_rename_inside_is_one_move(rec: Recorder, library: Path) -> None:
    # The folder exists before the photo: a folder made just before something is moved into it may not be
    # watched yet (inotify adds watches one folder at a time), and then the move reads as deleted + new.
    (library / "sub").mkdir()
    a = photo(library / "a.jpg")
    rec.wait_for(lambda r: a in r.changed)
    b = str(library / "sub" / "b.jpg")
    os.rename(a, b)
    rec.wait_for(lambda r: r.moved)
    settle(rec, library)
    assert rec.moved == [(a, b)]
    assert a not in rec.deleted and b not in rec.changed


def test_two_renames_in_a_row_are_one_move(rec: Recorder, library: Path) -> None:
    a = photo(library / "a.jpg")
    rec.wait_for(lambda r: a in r.changed)
    b, c = str(library / "b.jpg"), str(library / "c.jpg")
    os.rename(a, b)
    os.rename(b, c)
    rec.wait_for(lambda r: r.moved)
    settle(rec, library)
    assert rec.moved == [(a, c)]


def test_modified_after_a_move_is_move_and_change(rec: Recorder, library: Path) -> None:
    a = photo(library / "a.jpg")
    rec.wait_for(lambda r: a in r.changed)
    b = str(library / "b.jpg")
    os.rename(a, b)
    with open(b, "ab") as f:
        f.write(b"edited")
    rec.wait_for(lambda r: r.moved and b in r.changed)
    assert rec.moved == [(a, b)]
    move_batch = next(i for i, batch in enumerate(rec.batches) if batch.moved)
    change_batch = next(i for i, batch in enumerate(rec.batches) if b in batch.changed)
    assert move_batch <= change_batch  # the library applies the move before it rescans b


def test_move_out_of_the_watched_folder_is_deleted(rec: Recorder, library: Path, tmp_path: Path) -> None:
    path = photo(library / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rename(path, outside / "a.jpg")
    rec.wait_for(lambda r: path in r.deleted)
    assert rec.moved == []


def test_move_in_from_outside_is_changed(rec: Recorder, library: Path, tmp_path: Path) -> None:
    source = photo(tmp_path / "outside" / "a.jpg")
    target = str(library / "a.jpg")
    os.rename(source, target)
    rec.wait_for(lambda r: target in r.changed)
    assert rec.moved == [] and rec.deleted == []


def test_temp_file_renamed_to_a_photo_name_is_changed(rec: Recorder, library: Path) -> None:
    temp = library / "x.jpg.tmp"
    temp.write_bytes(JPEG)
    target = str(library / "x.jpg")
    os.rename(temp, target)
    rec.wait_for(lambda r: target in r.changed)
    settle(rec, library)
    assert rec.changed.count(target) == 1
    assert all(str(temp) not in b.changed and str(temp) not in b.deleted for b in rec.batches)


def test_photo_renamed_to_a_non_photo_name_is_deleted(rec: Recorder, library: Path) -> None:
    path = photo(library / "x.jpg")
    rec.wait_for(lambda r: path in r.changed)
    os.rename(path, library / "x.jpg.bak")
    rec.wait_for(lambda r: path in r.deleted)


def test_hidden_and_non_photo_files_are_ignored(rec: Recorder, library: Path) -> None:
    photo(library / ".hidden.jpg")
    photo(library / ".cache" / "thumb.jpg")
    photo(library / "notes.txt", b"text")
    photo(library / "._a.jpg")  # a macOS resource fork
    settle(rec, library)
    assert all(Path(p).name.startswith("sentinel") for p in rec.changed)


# ---- many files, folders ------------------------------------------------------------------------------------


def test_burst_of_300_photos_arrives_each_once_in_few_callbacks(rec: Recorder, library: Path) -> None:
    paths = {photo(library / f"p{i:03d}.jpg", JPEG[:64]) for i in range(300)}
    rec.wait_for(lambda r: paths <= set(r.changed))
    settle(rec, library)
    burst = [p for p in rec.changed if p in paths]
    assert sorted(burst) == sorted(paths)  # each exactly once
    assert len(rec.batches) < 30


# watchdog warns when it adds a watch twice for a tree that appears at once; harmless.
@pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")
def test_copied_folder_reports_every_photo_below_it(rec: Recorder, library: Path, tmp_path: Path) -> None:
    source = tmp_path / "card"
    expected = [photo(source / "2024" / f"{i}.jpg") for i in range(5)] + [photo(source / "2024" / "x" / "y.png")]
    photo(source / "2024" / "readme.txt", b"text")
    photo(source / "2024" / ".thumbs" / "t.jpg")
    shutil.copytree(source, library / "card")
    wanted = {p.replace(str(source), str(library / "card")) for p in expected}
    rec.wait_for(lambda r: wanted <= set(r.changed))
    settle(rec, library)
    reported = [p for p in rec.changed if not Path(p).name.startswith("sentinel")]
    assert sorted(reported) == sorted(wanted)


def test_renamed_folder_is_one_move_per_photo(rec: Recorder, library: Path) -> None:
    old = [photo(library / "trip" / "a.jpg"), photo(library / "trip" / "day2" / "b.jpg")]
    rec.wait_for(lambda r: set(old) <= set(r.changed))
    os.rename(library / "trip", library / "holiday")
    new = [p.replace("trip", "holiday") for p in old]
    rec.wait_for(lambda r: len(r.moved) >= 2)
    settle(rec, library)
    assert sorted(rec.moved) == sorted(zip(old, new, strict=True))
    assert rec.deleted == [] and rec.deleted_dirs == []


def test_renamed_folder_of_1000_photos_is_1000_moves(rec: Recorder, library: Path) -> None:
    old = [photo(library / "big" / f"{i:04d}.jpg", JPEG[:16]) for i in range(1000)]
    rec.wait_for(lambda r: len(r.changed) >= 1000)
    os.rename(library / "big", library / "bigger")
    rec.wait_for(lambda r: len(r.moved) >= 1000)
    assert sorted(rec.moved) == [(p, p.replace("big", "bigger")) for p in old]


def test_folder_moved_out_is_a_deleted_dir(rec: Recorder, library: Path, tmp_path: Path) -> None:
    path = photo(library / "trip" / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    os.rename(library / "trip", tmp_path / "trip")
    rec.wait_for(lambda r: r.deleted_dirs)
    assert rec.deleted_dirs == [str(library / "trip")]


def test_deleted_folder_reports_its_photos_and_itself(rec: Recorder, library: Path) -> None:
    paths = [photo(library / "trip" / "a.jpg"), photo(library / "trip" / "b.jpg")]
    rec.wait_for(lambda r: set(paths) <= set(r.changed))
    shutil.rmtree(library / "trip")
    rec.wait_for(lambda r: r.deleted_dirs)
    assert rec.deleted_dirs == [str(library / "trip")]
    assert set(rec.deleted) <= set(paths)  # the folder's deletion covers whatever came after it


# ---- callbacks, lifecycle ------------------------------------------------------------------------------------


def test_a_failing_callback_is_logged_and_watching_goes_on(
    library: Path, make_watcher, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder(fail_times=1)
    make_watcher([library], rec).start()
    first = photo(library / "first.jpg")
    rec.wait_for(lambda r: first in r.changed)
    second = photo(library / "second.jpg")
    rec.wait_for(lambda r: second in r.changed)
    assert any("on_changes callback failed" in r.message and r.exc_info for r in caplog.records)


def test_on_start_runs_once_after_scheduling_and_its_events_follow(library: Path, make_watcher) -> None:
    rec = Recorder()
    runs: list[tuple[float, int]] = []
    during = str(library / "during.jpg")

    def on_start() -> None:
        photo(Path(during))  # only reported if the folder was already watched
        time.sleep(2 * DEBOUNCE)  # a scan that takes longer than the debounce
        runs.append((time.monotonic(), len(rec.batches)))

    make_watcher([library], rec, on_start=on_start).start()
    rec.wait_for(lambda r: during in r.changed)
    settle(rec, library)
    assert len(runs) == 1
    finished, batches_meanwhile = runs[0]
    assert batches_meanwhile == 0  # nothing is delivered while the reconciliation scan runs
    assert rec.arrived[0] >= finished


def test_stop_is_prompt_and_leaves_no_threads(library: Path) -> None:
    before = set(threading.enumerate())
    rec = Recorder()
    watcher = FolderWatcher([library], rec, debounce=DEBOUNCE, poll_interval=POLL)
    watcher.start()
    path = photo(library / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    began = time.monotonic()
    watcher.stop()
    assert time.monotonic() - began < 1.5
    assert [t for t in threading.enumerate() if t not in before] == []


def test_stop_delivers_what_is_pending(library: Path) -> None:
    rec = Recorder()
    watcher = FolderWatcher([library], rec, debounce=30.0, poll_interval=POLL)
    watcher.start()
    path = photo(library / "a.jpg")
    deadline = time.monotonic() + 5
    while watcher.pending == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    watcher.stop()
    assert rec.changed == [path]


def test_flush_ignores_timers(library: Path, make_watcher) -> None:
    rec = Recorder()
    watcher = make_watcher([library], rec, debounce=30.0)
    watcher.start()
    path = photo(library / "a.jpg")
    deadline = time.monotonic() + 5
    while path not in rec.changed and time.monotonic() < deadline:
        watcher.flush()  # returns after the batch was handed over
        time.sleep(0.02)
    assert rec.changed == [path]


def test_context_manager_starts_and_stops(library: Path) -> None:
    before = set(threading.enumerate())
    rec = Recorder()
    with FolderWatcher([library], rec, debounce=DEBOUNCE, poll_interval=POLL):
        path = photo(library / "a.jpg")
        rec.wait_for(lambda r: path in r.changed)
    assert [t for t in threading.enumerate() if t not in before] == []


def test_folders_added_and_removed_while_running(library: Path, tmp_path: Path, make_watcher) -> None:
    rec = Recorder()
    watcher = make_watcher([library], rec)
    watcher.start()
    other = tmp_path / "other"
    other.mkdir()
    watcher.add_folder(other)
    added = photo(other / "a.jpg")
    rec.wait_for(lambda r: added in r.changed)
    watcher.remove_folder(other)
    photo(other / "b.jpg")
    settle(rec, library)
    assert rec.changed.count(added) == 1 and str(other / "b.jpg") not in rec.changed
    assert watcher.folders == (str(library),)


def test_nested_folders_are_watched_once(library: Path, make_watcher) -> None:
    rec = Recorder()
    inner = library / ".hidden-but-asked-for"
    inner.mkdir()
    make_watcher([library, inner], rec).start()
    path = photo(inner / "a.jpg")
    rec.wait_for(lambda r: path in r.changed)
    settle(rec, library)
    assert rec.changed.count(path) == 1


# ---- trouble ---------------------------------------------------------------------------------------------------


def probe_until_seen(rec: Recorder, folder: Path, timeout: float = 5.0) -> None:
    """Write new photos until one is reported: the folder is watched (again)."""
    deadline = time.monotonic() + timeout
    i = 0
    while time.monotonic() < deadline:
        path = photo(folder / f"probe{i}.jpg")
        if rec.wait_for(lambda r, path=path: path in r.changed, timeout=0.5, must=False):
            return
        i += 1
    pytest.fail(f"{folder} is not watched again; got {rec.batches}")


def test_watched_folder_deleted_and_made_again_is_watched_again(library: Path, make_watcher) -> None:
    rec = Recorder()
    make_watcher([library], rec, recheck_interval=0.2).start()
    shutil.rmtree(library)
    rec.wait_for(lambda r: r.overflows_after(0) >= 1)
    made_again = time.monotonic()
    library.mkdir()
    rec.wait_for(lambda r: r.overflows_after(made_again) >= 1)  # rescan: it may have changed while unwatched
    probe_until_seen(rec, library)


def test_folder_missing_at_start_is_watched_when_it_appears(tmp_path: Path, make_watcher) -> None:
    rec = Recorder()
    started: list[bool] = []
    folder = tmp_path / "usb-disk"
    make_watcher([folder], rec, recheck_interval=0.2, on_start=lambda: started.append(True)).start()
    folder.mkdir()
    rec.wait_for(lambda r: r.overflows_after(0) >= 1)
    probe_until_seen(rec, folder)
    assert started == [True]


def test_inotify_overflow_asks_for_a_rescan(rec: Recorder) -> None:
    # The record watchdog's inotify reader logs when the kernel dropped events.
    logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
    rec.wait_for(lambda r: r.overflows_after(0) == 1)


def test_an_observer_that_dies_is_replaced(library: Path, make_watcher) -> None:
    observers = []

    def factory():
        observers.append(Observer())
        return observers[-1]

    rec = Recorder()
    make_watcher([library], rec, recheck_interval=0.2, observer_factory=factory).start()
    observers[0].stop()  # as if its thread had died
    rec.wait_for(lambda r: r.overflows_after(0) >= 1)  # events may have been lost meanwhile
    probe_until_seen(rec, library)
    assert len(observers) == 2


def test_polling_observer_works_too(library: Path, make_watcher) -> None:
    # For network shares and other file systems the kernel does not report changes on.
    rec = Recorder()
    make_watcher([library], rec, observer_factory=lambda: PollingObserver(timeout=0.1)).start()
    a = photo(library / "a.jpg")
    rec.wait_for(lambda r: a in r.changed)
    b = str(library / "b.jpg")
    os.rename(a, b)
    rec.wait_for(lambda r: r.moved)
    os.remove(b)
    rec.wait_for(lambda r: b in r.deleted)
    assert rec.moved == [(a, b)]


def test_watcher_imports_neither_qt_nor_torch() -> None:
    code = "import sys, photo_tagger.watcher; print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---- coalescing rules that real timing makes hard to hit --------------------------------------------------------


def settled(co: _Coalescer) -> FolderChanges:
    batch = co.take(0.0, lambda path: (1, 1), force=True)
    return batch or FolderChanges()


def test_a_move_there_and_back_cancels() -> None:
    co = _Coalescer(DEBOUNCE, 2)
    co.moved_file("/l/a.jpg", "/l/b.jpg", 0.0)
    co.moved_file("/l/b.jpg", "/l/a.jpg", 0.0)
    assert settled(co).moved == ()


def test_a_swap_through_a_temporary_name_stays_in_order() -> None:
    co = _Coalescer(DEBOUNCE, 2)
    for src, dst in [("a", "t"), ("b", "a"), ("t", "b")]:
        co.moved_file(f"/l/{src}.jpg", f"/l/{dst}.jpg", 0.0)
    assert settled(co).moved == (("/l/a.jpg", "/l/t.jpg"), ("/l/b.jpg", "/l/a.jpg"), ("/l/t.jpg", "/l/b.jpg"))


def test_a_new_photo_moved_before_it_settled_is_new_at_its_destination() -> None:
    co = _Coalescer(DEBOUNCE, 2)
    co.changed_file("/l/n.jpg", 0.0, created=True)
    co.moved_file("/l/n.jpg", "/l/m.jpg", 0.0)
    batch = settled(co)
    assert (batch.changed, batch.moved) == (("/l/m.jpg",), ())


def test_a_move_onto_a_deleted_path_is_not_deleted_after() -> None:
    co = _Coalescer(DEBOUNCE, 2)
    co.deleted_file("/l/b.jpg", 0.0)
    co.moved_file("/l/a.jpg", "/l/b.jpg", 0.0)
    batch = settled(co)
    assert (batch.moved, batch.deleted) == ((("/l/a.jpg", "/l/b.jpg"),), ())


def test_a_move_into_a_folder_deleted_before_needs_a_barrier() -> None:
    co = _Coalescer(DEBOUNCE, 2)
    co.deleted_dir("/l/d", 0.0)
    assert co.needs_barrier("/l/x.jpg", "/l/d/x.jpg")
    assert not co.needs_barrier("/l/x.jpg", "/l/e/x.jpg")


def test_many_moves_stay_fast() -> None:
    co = _Coalescer(DEBOUNCE, 2)
    began = time.monotonic()
    for i in range(20_000):
        co.moved_file(f"/l/d/{i}.jpg", f"/l/e/{i}.jpg", 0.0)
        co.moved_file(f"/l/d/{i}.jpg", f"/l/e/{i}.jpg", 0.0)  # reported twice
    for i in range(20_000):
        co.moved_file(f"/l/e/{i}.jpg", f"/l/f/{i}.jpg", 0.0)
    moved = settled(co).moved
    assert time.monotonic() - began < 2.0
    assert moved == tuple((f"/l/d/{i}.jpg", f"/l/f/{i}.jpg") for i in range(20_000))


def test_stability_needs_unchanged_polls() -> None:
    co = _Coalescer(0.1, 2)
    sizes = iter([(10, 1), (20, 2), (20, 2)])
    co.changed_file("/l/a.jpg", 0.0, created=True)
    assert co.take(0.05, lambda p: next(sizes)) is None  # inside the debounce: not even looked at
    assert co.take(0.2, lambda p: next(sizes)) is None  # first look
    assert co.take(0.25, lambda p: next(sizes)) is None  # grew
    assert co.take(0.3, lambda p: next(sizes)).changed == ("/l/a.jpg",)  # same twice
