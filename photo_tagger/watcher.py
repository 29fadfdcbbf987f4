"""Watch the library's folders and report what changed in them, in debounced batches.

    watchdog observer thread --event--> inbox --> dispatcher thread (_Coalescer) --> on_changes(FolderChanges)

watchdog reports every write of a file being copied, a save as a temp file plus a rename, a copied folder as one
event for the folder. The library wants none of that; it wants "these photos are new or changed and done being
written, these were moved, these are gone". One dispatcher thread turns the first into the second, and the
library turns the batches into scan and tag jobs. This module knows nothing of the database, Qt or torch.

Photos still being copied
    A created or modified photo is reported once no event has come for it for ``debounce`` seconds *and* its
    (size, mtime) read the same at ``stable_checks`` consecutive polls ``poll_interval`` apart. Each write
    restarts the debounce, so a slow copy over a local disk is reported once, after its last chunk. The polls
    cover writers that the kernel does not report (network shares, FUSE file systems).

Reconciliation at start
    Changes made while the app was closed are found by the library's scanner, not here. ``start()`` schedules
    the observer first and then calls ``on_start`` on the dispatcher thread: run the scan there, and the events
    that arrive meanwhile wait in the inbox, so nothing falls between the scan and the watch.

Trouble never ends the process
    A watched folder that disappears (disk unplugged, folder deleted or moved away) is reported as ``overflow``
    and looked for again every ``recheck_interval`` seconds; when it is back it is watched again and another
    ``overflow`` batch asks the library for a rescan. The same happens when the observer thread dies and is
    restarted, and when the kernel drops events (best effort: watchdog only logs that, as "Inotify queue
    overflowed", and the watcher listens for that log record). Exceptions from ``on_changes`` and ``on_start``
    are logged and watching goes on.
"""

from __future__ import annotations

import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from watchdog.events import (
    EVENT_TYPE_ATTRIB,
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from .pipeline.images import is_photo_path

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver, ObservedWatch

__all__ = ["FolderChanges", "FolderWatcher"]

logger = logging.getLogger(__name__)

# Leaving out "opened", "closed without writing" and directory "modified" keeps the kernel from waking the
# watcher each time the worker or a viewer merely reads a photo.
_EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileAttribEvent, FileClosedEvent, FileDeletedEvent, FileMovedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent,
]
_CHANGE_TYPES = frozenset({EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_CLOSED, EVENT_TYPE_ATTRIB})

# Under a steady stream of events, moves and deletions wait at most this many debounce windows.
_MAX_HOLD = 10

# watchdog's inotify reader logs this (and rebuilds its watches) when the kernel queue overflowed.
_OVERFLOW_LOGGER = "watchdog.observers.inotify_c"
_OVERFLOW_MESSAGE = "Inotify queue overflowed"

# Inbox messages besides events: (_EVENT, arrival, event), (_OVERFLOW, arrival), (_PRUNE,), (_FLUSH, done),
# (_STOP, flush).
_EVENT, _OVERFLOW, _PRUNE, _FLUSH, _STOP = "event", "overflow", "prune", "flush", "stop"


@dataclass(frozen=True)
class FolderChanges:
    """One debounced batch of changes under the watched folders (absolute paths as str).

    Apply a batch in field order, which the watcher keeps consistent: ``moved`` one by one in the order given,
    then ``deleted_dirs``, then ``deleted``, then ``changed``. A move onto an existing path replaces what was
    there; a move whose source the library does not know is a new photo at the destination.

    Examples (paths shortened)::

        rename a.jpg -> b.jpg, then b.jpg -> c.jpg        moved=(("a.jpg", "c.jpg"),)
        rename a.jpg -> b.jpg, then edit b.jpg            moved=(("a.jpg", "b.jpg"),), changed=("b.jpg",)
        create n.jpg, then rename it to m.jpg             changed=("m.jpg",)
        save x.jpg as x.jpg.tmp, rename to x.jpg          changed=("x.jpg",)
        create y.jpg, delete it before it is reported     nothing
        rename x.jpg -> x.jpg.bak                         deleted=("x.jpg",)
        rename folder d -> e (holding 1.jpg, 2.jpg)       moved=(("d/1.jpg", "e/1.jpg"), ("d/2.jpg", "e/2.jpg"))
        move folder d out of the watched folders          deleted_dirs=("d",)
        delete folder d (rm -r)                           deleted_dirs=("d",) (its photos' deletions folded in)
        copy a folder in                                  changed=(every photo below it)
        a watched folder itself deleted or unplugged      overflow=True (the scanner decides; no mass deletion)

    A move is only seen as one when the kernel reports both halves to one watch: a move between two separate
    watched folders, or into a folder made a moment before (not watched yet), reads as deleted + changed.
    """

    changed: tuple[str, ...] = ()  # created or modified photo files whose size+mtime has been stable
    deleted: tuple[str, ...] = ()  # photo files deleted (or moved out of every watched folder)
    moved: tuple[tuple[str, str], ...] = ()  # (src, dst) photo renames/moves inside the watched folders
    deleted_dirs: tuple[str, ...] = ()  # directories deleted or moved out (the library decides what that means)
    overflow: bool = False  # events may have been lost (queue overflow, observer restart): rescan needed

    def __bool__(self) -> bool:
        return bool(self.changed or self.deleted or self.moved or self.deleted_dirs or self.overflow)


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _stat_file(path: str) -> tuple[int, int] | None:
    """(size, mtime_ns) of a regular file, or None when it is gone or not a file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _dir_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a folder: a folder deleted and made again, or a disk mounted again, gets a new one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


@dataclass
class _Pending:
    created: bool  # first seen being created: deleted before it is reported, it leaves no trace
    last_event: float
    seen: tuple[int, int] | None = None  # (size, mtime_ns) at the last poll
    stable: int = 0  # consecutive polls that read ``seen``

    def touch(self, now: float) -> None:
        self.last_event, self.seen, self.stable = now, None, 0


@dataclass
class _Move:
    src: str
    dst: str
    via: set[str] = field(default_factory=set)  # the middle steps of a chain a -> b -> c ({b})


class _Coalescer:
    """The changes not yet delivered, merged path by path as events come. No threads, no watchdog.

    Moves are kept in order because a library applies them one after the other: a swap through a temporary
    name (a -> t, b -> a, t -> b) only makes sense in that order. A step that continues a chain (a -> b, then
    b -> c) is folded into it only when no move in between touches b or c.
    """

    def __init__(self, debounce: float, stable_checks: int) -> None:
        self.debounce = debounce
        self.stable_checks = max(1, stable_checks)
        self.changed: dict[str, _Pending] = {}
        self.deleted: dict[str, None] = {}  # dicts as ordered sets
        self.deleted_dirs: dict[str, None] = {}
        self.moves: dict[int, _Move] = {}  # in the order they happened
        # Indexes that keep a folder of 10,000 renamed photos linear: the last move that ended at a path, and the
        # last move that started or ended there (entries may be stale; a stale one only prevents a merge).
        self._seq = 0
        self._last_dst: dict[str, int] = {}
        self._last_touch: dict[str, int] = {}
        self.overflow = False
        self._first: float | None = None  # when the oldest undelivered move/deletion/overflow came
        self._last = 0.0

    def __len__(self) -> int:
        return len(self.changed) + len(self.deleted) + len(self.deleted_dirs) + len(self.moves) + self.overflow

    def _structural(self, now: float) -> None:
        if self._first is None:
            self._first = now
        self._last = now

    def changed_file(self, path: str, now: float, *, created: bool = False) -> None:
        if path in self.deleted:
            del self.deleted[path]
            created = False  # deleted and written again: the library knows the path
        pending = self.changed.get(path)
        if pending is None:
            self.changed[path] = _Pending(created, now)
        else:
            pending.touch(now)

    def deleted_file(self, path: str, now: float) -> None:
        pending = self.changed.pop(path, None)
        if pending is not None and pending.created:
            return
        self._structural(now)
        self.deleted[path] = None

    def moved_file(self, src: str, dst: str, now: float) -> None:
        if src == dst:
            return
        last = self.moves.get(self._last_dst.get(dst, -1))
        if src not in self.changed and last is not None and last.dst == dst and (last.src == src or src in last.via):
            return  # the same step reported twice (a folder walk here and watchdog's own per-file events)
        self._structural(now)
        # Moves are applied before deletions, so a path moved onto must not stay deleted; whatever change was
        # pending at dst is replaced by what arrives.
        self.deleted.pop(dst, None)
        self.changed.pop(dst, None)
        pending = self.changed.pop(src, None)
        if pending is not None:
            pending.touch(now)
            self.changed[dst] = pending
            if pending.created:
                return  # never reported at src: it is simply new at dst
        i = self._last_dst.get(src, -1)
        move = self.moves.get(i)
        if move is not None and move.dst == src and self._last_touch[src] == i and self._last_touch.get(dst, -1) <= i:
            move.via.add(src)  # continues a chain that nothing since has crossed
            move.dst = dst
            self._last_dst[dst] = self._last_touch[dst] = i
            if move.src == dst:
                del self.moves[i]  # moved back where it started
            return
        self._seq += 1
        self.moves[self._seq] = _Move(src, dst)
        self._last_dst[dst] = self._last_touch[src] = self._last_touch[dst] = self._seq

    def deleted_dir(self, path: str, now: float) -> None:
        self._structural(now)
        self.changed = {p: v for p, v in self.changed.items() if p != path and not _under(p, path)}
        self.deleted = {p: None for p in self.deleted if not _under(p, path)}
        self.deleted_dirs = {p: None for p in self.deleted_dirs if not _under(p, path)}
        self.deleted_dirs[path] = None
        # Moves into the folder stay: they are applied before the folder's deletion.

    def mark_overflow(self, now: float) -> None:
        self._structural(now)
        self.overflow = True

    def needs_barrier(self, *paths: str) -> bool:
        """True when a move touches a folder whose deletion is pending (a folder deleted and made again).

        Applied in batch order the move would come before that deletion and be undone by it, so the watcher
        delivers what is pending first.
        """
        return any(_under(p, d) for d in self.deleted_dirs for p in paths)

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget pending changes outside the watched folders (after ``remove_folder``)."""
        self.changed = {p: v for p, v in self.changed.items() if keep(p)}
        self.deleted = {p: None for p in self.deleted if keep(p)}
        self.deleted_dirs = {p: None for p in self.deleted_dirs if keep(p)}
        self.moves = {i: m for i, m in self.moves.items() if keep(m.dst)}

    def take(
        self, now: float, stat_file: Callable[[str], tuple[int, int] | None], *, force: bool = False
    ) -> FolderChanges | None:
        """One poll: the changed files that have settled, with every pending move and deletion.

        Moves and deletions ride along with any settled file (so a move is never delivered after a change to
        its destination); on their own they wait for ``debounce`` seconds of quiet. ``force`` ignores every
        timer and delivers all that is pending and still on disk.
        """
        ready = []
        for path, pending in list(self.changed.items()):
            if not force and now - pending.last_event < self.debounce:
                continue
            seen = stat_file(path)
            if seen is None:
                del self.changed[path]  # vanished before it settled; its own event tells what became of it
                continue
            if not force:
                if seen == pending.seen:
                    pending.stable += 1
                else:
                    pending.seen, pending.stable = seen, 1
                if pending.stable < self.stable_checks:
                    continue
            del self.changed[path]
            ready.append(path)
        due = self._first is not None and (
            force or ready or now - self._last >= self.debounce or now - self._first >= _MAX_HOLD * self.debounce
        )
        if due:
            return self._batch(tuple(sorted(ready)))
        return FolderChanges(changed=tuple(sorted(ready))) if ready else None

    def take_structural(self) -> FolderChanges | None:
        return self._batch(()) if self._first is not None else None

    def _batch(self, changed: tuple[str, ...]) -> FolderChanges:
        batch = FolderChanges(
            changed=changed,
            deleted=tuple(self.deleted),
            moved=tuple((m.src, m.dst) for m in self.moves.values()),
            deleted_dirs=tuple(self.deleted_dirs),
            overflow=self.overflow,
        )
        self.deleted, self.deleted_dirs, self.moves, self.overflow, self._first = {}, {}, {}, False, None
        self._last_dst, self._last_touch = {}, {}
        return batch


class _Handler(FileSystemEventHandler):
    def __init__(self, post: Callable[[FileSystemEvent], None]) -> None:
        self._post = post

    def dispatch(self, event: FileSystemEvent) -> None:
        # Runs on watchdog's observer thread, which an escaping exception would end.
        try:
            self._post(event)
        except Exception:
            logger.exception("Could not queue file system event %r", event)


class _OverflowSpy(logging.Handler):
    def __init__(self, post: Callable[[], None]) -> None:
        super().__init__()
        self._post = post

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.getMessage().startswith(_OVERFLOW_MESSAGE):
                self._post()
        except Exception:
            self.handleError(record)


@dataclass
class _Watched:
    watch: ObservedWatch | None = None
    identity: tuple[int, int] | None = None
    missing: bool = False  # logged as missing; logged again only once it was back


def _folder_path(folder: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(folder))


def _outermost(folders: Iterable[str]) -> list[str]:
    """The folders to schedule: one recursive watch covers the folders inside it, and two would report twice."""
    kept: list[str] = []
    for folder in sorted(set(folders), key=len):
        if not any(folder == k or _under(folder, k) for k in kept):
            kept.append(folder)
    return kept


class FolderWatcher:
    """Watch folders recursively and call ``on_changes`` with debounced batches of photo changes.

    ``on_changes`` runs on the watcher's own thread, one call per poll that has something to say, so a burst of
    500 copied photos becomes a few calls. Hidden files and folders (name starting with ".") below a watched
    folder are ignored, and so are files that are not photos, except that a temp file renamed to a photo name
    reports the photo. See :class:`FolderChanges` for the coalescing rules.

    A folder renamed or moved inside the watched folders is reported as one move per photo below it (found by
    walking its new location), so the library only ever deals with photo paths; a folder moved out or deleted
    is reported in ``deleted_dirs``. A folder created or copied in is walked, because photos written into it
    before its watch was in place send no events.

    ``stop()`` flushes what is pending once (``stop(flush=False)`` drops it): a pending move dropped at exit
    would cost the photo's accepted tags, since the scan at the next start would see a deletion and a new
    photo. A watcher starts once.

    Example::

        with FolderWatcher(["~/Pictures"], library.apply_changes, on_start=library.reconcile):
            app.exec()
    """

    def __init__(
        self,
        folders: Iterable[str | os.PathLike[str]],
        on_changes: Callable[[FolderChanges], None],
        *,
        debounce: float = 1.0,
        stable_checks: int = 2,
        poll_interval: float = 0.25,
        on_start: Callable[[], None] | None = None,
        observer_factory: Callable[[], BaseObserver] | None = None,
        recheck_interval: float = 5.0,
    ) -> None:
        self._on_changes = on_changes
        self._on_start = on_start
        self._poll_interval = poll_interval
        self._recheck_interval = recheck_interval
        self._observer_factory: Callable[[], BaseObserver] = observer_factory or Observer
        self._co = _Coalescer(debounce, stable_checks)
        self._co_lock = threading.RLock()  # the coalescer belongs to the dispatcher thread; see flush()
        self._inbox: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        # Guards the observer, the folders and the watch table: start/stop/add/remove against the recheck.
        self._lock = threading.RLock()
        self._folders: list[str] = []
        self._folder_set: frozenset[str] = frozenset()
        self._deepest_first: tuple[str, ...] = ()
        self._watched: dict[str, _Watched] = {}
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self._state = "new"  # -> "running" -> "stopped"
        self._handler = _Handler(lambda event: self._inbox.put((_EVENT, time.monotonic(), event)))
        self._spy = _OverflowSpy(lambda: self._inbox.put((_OVERFLOW, time.monotonic())))
        for folder in map(_folder_path, folders):
            if folder not in self._folders:
                self._folders.append(folder)
        self._folders_changed()

    # ---- public API ------------------------------------------------------------------------------------------

    @property
    def folders(self) -> tuple[str, ...]:
        return tuple(self._folders)

    @property
    def pending(self) -> int:
        """How many changes wait for their debounce or stability checks (for a status line, and for tests)."""
        return len(self._co)

    def start(self) -> None:
        """Start watching, then run ``on_start`` on the watcher's thread before the first batch.

        A folder that cannot be watched now (missing, unreadable) is logged and looked for again every
        ``recheck_interval`` seconds; when it can be watched, an ``overflow`` batch asks for a rescan.
        """
        with self._lock:
            if self._state != "new":
                raise RuntimeError("a FolderWatcher can be started only once")
            self._state = "running"
            self._start_observer()
            self._sync_watches()
        logging.getLogger(_OVERFLOW_LOGGER).addHandler(self._spy)
        self._thread = threading.Thread(target=self._run, name="photo-tagger-watcher", daemon=True)
        self._thread.start()

    def add_folder(self, path: str | os.PathLike[str]) -> None:
        """Watch one more folder; scanning what is already in it is the library's job."""
        folder = _folder_path(path)
        with self._lock:
            if folder in self._folders:
                return
            self._folders.append(folder)
            self._folders_changed()
            if self._state == "running":
                self._sync_watches()

    def remove_folder(self, path: str | os.PathLike[str]) -> None:
        """Stop watching a folder; changes below it that were not delivered yet are forgotten."""
        folder = _folder_path(path)
        with self._lock:
            if folder not in self._folders:
                return
            self._folders.remove(folder)
            self._folders_changed()
            if self._state == "running":
                self._sync_watches()
                self._inbox.put((_PRUNE,))

    def flush(self) -> None:
        """Deliver what is pending now, ignoring timers (files still being written included).

        Events still inside watchdog (a rename's first half waits there up to 0.5 s for its second) are not
        pending yet. Returns once the batch has been handed to ``on_changes``.
        """
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            done = threading.Event()
            self._inbox.put((_FLUSH, done))
            while not done.wait(0.05):
                if not thread.is_alive():
                    break  # stopped meanwhile: do it here
            else:
                return
        with self._co_lock:
            if thread is None or not thread.is_alive():
                self._drain_inbox()
            self._deliver(self._co.take(time.monotonic(), _stat_file, force=True))

    def stop(self, timeout: float = 5.0, *, flush: bool = True) -> None:
        """Stop the observer, deliver what is pending once (unless ``flush=False``) and end the thread.

        Waits at most ``timeout`` seconds; a callback or ``on_start`` that is still running then is logged and
        left to finish on its daemon thread.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._state != "running":
                self._state = "stopped"
                return
            self._state = "stopped"
            observer, self._observer = self._observer, None
            self._watched.clear()
        logging.getLogger(_OVERFLOW_LOGGER).removeHandler(self._spy)
        if observer is not None:
            try:
                observer.stop()
                observer.join(max(0.0, deadline - time.monotonic()))
            except Exception:
                logger.exception("Stopping the file system observer failed")
        self._inbox.put((_STOP, flush))
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("The folder watcher did not stop within %.1f s (on_start or on_changes busy)", timeout)

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- the dispatcher thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        if self._on_start is not None:
            try:
                self._on_start()
            except Exception:
                logger.exception("The folder watcher's on_start hook failed")
        next_poll = time.monotonic()
        next_recheck = next_poll + self._recheck_interval
        while True:
            wake = min(next_poll, next_recheck) if len(self._co) else next_recheck
            try:
                message = self._inbox.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                message = None
            with self._co_lock:
                while message is not None:
                    if self._handle(message):
                        return
                    if time.monotonic() >= next_poll and len(self._co):
                        break  # a flood of events must not hold back the polls
                    try:
                        message = self._inbox.get_nowait()
                    except queue.Empty:
                        message = None
                now = time.monotonic()
                if now >= next_poll:
                    try:
                        self._deliver(self._co.take(now, _stat_file))
                    except Exception:
                        logger.exception("Folder watcher poll failed")
                    next_poll = now + self._poll_interval
                if now >= next_recheck:
                    self._recheck(now)
                    next_recheck = now + self._recheck_interval

    def _handle(self, message: tuple) -> bool:
        """Handle one inbox message; True means stop."""
        kind = message[0]
        if kind == _EVENT:
            _, arrived, event = message
            try:
                self._apply(event, arrived)
            except Exception:
                logger.exception("Could not handle %r; asking for a rescan", event)
                self._co.mark_overflow(arrived)
        elif kind == _OVERFLOW:
            logger.warning("File system events were lost; asking for a rescan")
            self._co.mark_overflow(message[1])
        elif kind == _PRUNE:
            self._co.retain(lambda path: self._folder_of(path) is not None)
        elif kind == _FLUSH:
            self._deliver(self._co.take(time.monotonic(), _stat_file, force=True))
            message[1].set()
        elif kind == _STOP:
            waiting = self._drain_inbox()
            if message[1] or waiting:
                self._deliver(self._co.take(time.monotonic(), _stat_file, force=True))
            for done in waiting:
                done.set()
            return True
        return False

    def _drain_inbox(self) -> list[threading.Event]:
        """Handle every queued event; return the flush requests found (the caller delivers, then sets them)."""
        waiting = []
        while True:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return waiting
            if message[0] in (_FLUSH, _STOP):
                if message[0] == _FLUSH:
                    waiting.append(message[1])
            else:
                self._handle(message)

    def _deliver(self, batch: FolderChanges | None) -> None:
        if not batch:
            return
        try:
            self._on_changes(batch)
        except Exception:
            logger.exception("The folder watcher's on_changes callback failed; watching goes on")

    def _apply(self, event: FileSystemEvent, at: float) -> None:
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        if kind == EVENT_TYPE_MOVED:
            if event.is_synthetic:
                return  # watchdog's per-file copy of a folder move; _moved_dir walks the folder itself
            dst = os.fsdecode(event.dest_path)
            if event.is_directory:
                self._moved_dir(src, dst, at)
            else:
                self._moved_file(src, dst, at)
        elif event.is_directory:
            if kind == EVENT_TYPE_CREATED and not event.is_synthetic and self._visible(src):
                for path in self._photos_below(src):
                    self._co.changed_file(path, at, created=True)
            elif kind == EVENT_TYPE_DELETED:
                if src in self._folder_set:
                    logger.warning("Watched folder %s was deleted or moved away", src)
                    self._co.mark_overflow(at)
                elif self._visible(src):
                    self._co.deleted_dir(src, at)
        elif kind == EVENT_TYPE_DELETED:
            if self._is_photo(src):
                self._co.deleted_file(src, at)
        elif kind in _CHANGE_TYPES and self._is_photo(src):
            self._co.changed_file(src, at, created=kind == EVENT_TYPE_CREATED)

    def _moved_file(self, src: str, dst: str, at: float) -> None:
        src_photo, dst_photo = self._is_photo(src), bool(dst) and self._is_photo(dst)
        if src_photo and dst_photo:
            self._barrier(src, dst)
            self._co.moved_file(src, dst, at)
        elif dst_photo:
            self._co.changed_file(dst, at)  # a temp file renamed to its photo name: how many programs save
        elif src_photo:
            self._co.deleted_file(src, at)  # renamed to a hidden or non-photo name

    def _moved_dir(self, src: str, dst: str, at: float) -> None:
        if src in self._folder_set:  # a watched folder renamed inside another one: its own watch is stale now
            self._co.mark_overflow(at)
        src_seen = src not in self._folder_set and self._visible(src)
        if dst and self._visible(dst):
            for path in self._photos_below(dst):
                if src_seen:
                    old = src + path[len(dst):]
                    self._barrier(old, path)
                    self._co.moved_file(old, path, at)
                else:
                    self._co.changed_file(path, at, created=True)
        elif src_seen:
            self._co.deleted_dir(src, at)

    def _barrier(self, *paths: str) -> None:
        if self._co.needs_barrier(*paths):
            self._deliver(self._co.take_structural())

    @staticmethod
    def _photos_below(folder: str) -> Iterator[str]:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if not name.startswith(".") and is_photo_path(name):
                    yield os.path.join(root, name)

    # ---- which paths count ----------------------------------------------------------------------------------

    def _folders_changed(self) -> None:
        # Snapshots, replaced whole: the dispatcher thread reads them while add/remove_folder run elsewhere.
        self._folder_set = frozenset(self._folders)
        self._deepest_first = tuple(sorted(self._folder_set, key=len, reverse=True))

    def _folder_of(self, path: str) -> str | None:
        """The innermost watched folder holding ``path``: dots above it do not hide what the user asked for."""
        for folder in self._deepest_first:
            if path == folder or _under(path, folder):
                return folder
        return None

    def _visible(self, path: str) -> bool:
        folder = self._folder_of(path)
        return folder is not None and not any(part.startswith(".") for part in path[len(folder):].split(os.sep))

    def _is_photo(self, path: str) -> bool:
        return is_photo_path(path) and self._visible(path)

    # ---- the observer and its watches (under self._lock) ----------------------------------------------------

    def _start_observer(self) -> bool:
        try:
            observer = self._observer_factory()
            observer.start()
        except Exception:
            logger.exception("Could not start the file system observer; trying again in %.0f s", self._recheck_interval)
            self._observer = None
            return False
        self._observer = observer
        return True

    def _sync_watches(self) -> None:
        wanted = _outermost(self._folders)
        for folder in [f for f in self._watched if f not in wanted]:
            self._unschedule(self._watched.pop(folder))
        for folder in wanted:
            if folder not in self._watched:
                self._watched[folder] = _Watched()
                self._schedule(folder, self._watched[folder])

    def _schedule(self, folder: str, watched: _Watched) -> bool:
        identity = _dir_identity(folder)
        if self._observer is None:
            return False
        try:
            if identity is None:
                raise FileNotFoundError(f"not a folder: {folder}")
            watched.watch = self._observer.schedule(self._handler, folder, recursive=True, event_filter=_EVENT_FILTER)
        except Exception as exc:
            if not watched.missing:
                watched.missing = True
                logger.warning("Cannot watch %s (%s); trying again every %.0f s", folder, exc, self._recheck_interval)
            return False
        if watched.missing:
            logger.info("Watching %s again", folder)
        watched.identity, watched.missing = identity, False
        return True

    def _unschedule(self, watched: _Watched) -> None:
        if watched.watch is not None and self._observer is not None:
            try:
                self._observer.unschedule(watched.watch)
            except Exception:
                logger.debug("Unscheduling %r failed", watched.watch, exc_info=True)
        watched.watch, watched.identity = None, None

    def _recheck(self, now: float) -> None:
        """Every ``recheck_interval``: restart a dead observer, drop lost watches, watch folders that are back."""
        lost_events = False
        with self._lock:
            if self._state != "running":
                return
            if self._observer is None or not self._observer.is_alive():
                if self._observer is not None:
                    logger.error("The file system observer stopped; starting a new one")
                    try:
                        self._observer.stop()
                    except Exception:
                        logger.debug("Stopping the dead observer failed", exc_info=True)
                for watched in self._watched.values():
                    watched.watch = watched.identity = None
                if not self._start_observer():
                    return
                lost_events = True
            observer = self._observer
            emitters = {emitter.watch: emitter for emitter in list(observer.emitters)} if observer else {}
            for folder, watched in self._watched.items():
                identity = _dir_identity(folder)
                if watched.watch is not None:
                    emitter = emitters.get(watched.watch)
                    if identity == watched.identity and emitter is not None and emitter.is_alive():
                        continue
                    logger.warning("Lost the watch on %s; watching it again when it is back", folder)
                    self._unschedule(watched)
                    watched.missing = identity is None
                    lost_events = True
                if identity is not None and self._schedule(folder, watched):
                    lost_events = True
        if lost_events:
            self._co.mark_overflow(now)
