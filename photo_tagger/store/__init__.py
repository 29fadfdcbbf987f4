"""The library database: SQLAlchemy 2.0 tables, engine and session scope, migrations, and the search language.

Open a library with ``Store.open(settings.library_path)`` (a file path or any SQLAlchemy URL). Everything the
rest of the application needs is re-exported here; nothing in this package imports Qt, torch or the pipeline.
"""

from __future__ import annotations

from .engine import NotFoundError, StoreError
from .migrations import LATEST_VERSION, UpgradeReport
from .query import QueryError, parse_query
from .records import (
    FolderInfo,
    InstalledModelInfo,
    JobInfo,
    PhotoFile,
    PhotoInfo,
    PhotoTagInfo,
    SuggestionChange,
    UpsertReport,
)
from .schema import JobState, PhotoStatus, TagSource, TagState, content_hash, normalise_tag
from .search import DEFAULT_MIN_SCORE, Expander, SearchHit, SearchResult
from .store import Store

__all__ = [
    "DEFAULT_MIN_SCORE",
    "LATEST_VERSION",
    "FolderInfo",
    "InstalledModelInfo",
    "JobInfo",
    "JobState",
    "NotFoundError",
    "PhotoFile",
    "PhotoInfo",
    "PhotoStatus",
    "PhotoTagInfo",
    "QueryError",
    "SearchHit",
    "SearchResult",
    "Store",
    "StoreError",
    "SuggestionChange",
    "TagSource",
    "TagState",
    "UpgradeReport",
    "UpsertReport",
    "Expander",
    "content_hash",
    "normalise_tag",
    "parse_query",
]
