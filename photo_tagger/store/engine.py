"""Engine setup, session scopes and the translation of driver errors into messages that say what to do.

Every SQLite connection gets the same PRAGMAs from a connect listener:

- ``journal_mode=WAL``: readers (the GUI's grid, a search) never wait for the worker's writes, and vice versa.
- ``busy_timeout``: a writer waits this long for another writer instead of failing at once.
- ``foreign_keys=ON``: SQLite leaves it off per connection by default; the ON DELETE CASCADEs depend on it.
- ``synchronous=NORMAL``: with WAL this loses at most the last transactions on power loss, never consistency.

pysqlite's own transaction handling is switched off (``isolation_level = None``) and SQLAlchemy's ``begin``
event emits the BEGIN instead, as the SQLAlchemy SQLite dialect documentation recommends. That lets write
transactions start with ``BEGIN IMMEDIATE``: the write lock is taken up front, where the busy timeout applies,
instead of at the first write, where a reader that has to upgrade its lock in WAL mode fails with "database is
locked" without waiting.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_S = 10.0
# Per connection; the search touches a few MB of index pages per query, and the default 2 MB cache would send
# most of those reads back to the operating system.
SQLITE_CACHE_KIB = 64 * 1024
_BEGIN_OPTION = "photo_tagger_begin"
MIN_SQLITE = (3, 35)  # generated columns (3.31), RETURNING and MATERIALIZED CTEs (3.35)


class StoreError(RuntimeError):
    """The library database could not do what was asked; the message says what the user can do about it."""


class NotFoundError(StoreError, LookupError):
    """A photo, folder or job id that is not in the library."""


def database_url(location: str | Path | sa.URL) -> sa.URL:
    """A SQLAlchemy URL from a file path (``~/Pictures/library.sqlite``) or any SQLAlchemy URL string."""
    if isinstance(location, sa.URL):
        return location
    text = str(location)
    if isinstance(location, str) and "://" in text:
        try:
            return sa.make_url(text)
        except exc.ArgumentError as error:
            raise StoreError(f"{text!r} is not a database URL or a file path: {error}") from None
    path = Path(text).expanduser()
    return sa.URL.create("sqlite", database=str(path))


def sqlite_file(url: sa.URL) -> Path | None:
    """The database file of a SQLite URL; None for other backends and in-memory databases."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None  # a URI filename (shared memory and the like); not a plain file we can copy
    return Path(url.database)


def make_engine(
    location: str | Path | sa.URL, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, echo: bool = False
) -> sa.Engine:
    """An engine for the library; for SQLite with the PRAGMAs and BEGIN handling described above."""
    url = database_url(location)
    path = sqlite_file(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot create the folder {path.parent} for the photo library: {error.strerror or error}. "
                "Choose a library location you may write to."
            ) from None
    if url.get_backend_name() == "sqlite" and sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StoreError(
            f"photo-tagger needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer (generated columns, RETURNING, "
            f"MATERIALIZED); this Python has SQLite {sqlite3.sqlite_version}. Use a newer Python build."
        )
    engine = sa.create_engine(url, echo=echo)
    if url.get_backend_name() == "sqlite":
        _install_sqlite_listeners(engine, busy_timeout_s)
    return engine


def _install_sqlite_listeners(engine: sa.Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see the module docstring
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL itself needs a lock another process may hold.
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() not in ("wal", "memory"):
                log.warning("SQLite refused WAL journal mode (got %s); concurrent access will be slower", mode)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


def write_engine(engine: sa.Engine) -> sa.Engine:
    """A view of ``engine`` (same pool) whose transactions take SQLite's write lock at BEGIN."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})


def describe_error(error: BaseException, where: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> str:
    """A message for a driver error that says what went wrong in the user's terms and what to do about it."""
    original = getattr(error, "orig", None) or error
    text = str(original).lower()
    if "locked" in text or "busy" in text:
        return (
            f"The photo library {where} stayed locked by another program for more than "
            f"{busy_timeout_s:g} s (another photo-tagger window, a backup or a sync tool). Close the other "
            "program and try again."
        )
    if "disk i/o error" in text:
        return (
            f"Reading or writing the photo library {where} failed with a disk I/O error. Check that the "
            "disk is connected and healthy and try again; if it keeps failing, restore the newest .bak-* "
            "copy beside it."
        )
    if "full" in text:
        return f"The disk holding the photo library {where} is full. Free some space and try again."
    if "readonly" in text or "read-only" in text:
        return f"The photo library {where} is read-only. Check the file's and its folder's permissions."
    if "unable to open" in text:
        return f"Cannot open the photo library {where}. Check that its folder exists and you may write to it."
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"{where} is damaged or is not a photo-tagger library. Restore the newest .bak-* copy beside "
            "it, or move the file away to start a new library."
        )
    return f"The photo library {where} reported a database error: {original}"


def is_driver_error(error: BaseException) -> bool:
    """True for database errors that are the environment's fault (locks, disks), not a bug in our SQL."""
    if isinstance(error, exc.IntegrityError | exc.ProgrammingError):
        return False
    if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return False
    return isinstance(error, exc.DatabaseError | sqlite3.DatabaseError)


@contextmanager
def translated_errors(where: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Iterator[None]:
    """Turn driver errors raised inside the block into :class:`StoreError`; let everything else through."""
    try:
        yield
    except (exc.DBAPIError, sqlite3.Error) as error:
        if not is_driver_error(error):
            raise
        raise StoreError(describe_error(error, where, busy_timeout_s)) from error


def backup_sqlite(engine: sa.Engine, destination: Path) -> Path:
    """Copy a live SQLite library to ``destination`` with the online backup API (consistent under WAL)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(destination)
        try:
            raw.driver_connection.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
    finally:
        raw.close()
    return destination
