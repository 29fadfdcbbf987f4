"""``photo-tagger search [--json] QUERY``: the query language over the library, best matches first."""

from __future__ import annotations

import argparse
import json
import sys

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="+", help='e.g. dog beach -night, "golden retriever", ~dog, date:2021')
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--page", type=int, default=1)


def visible_tags(library, photo_id: int) -> list[str]:  # noqa: ANN001 - Library
    """The tags a user sees on a photo: accepted, user-added, and suggestions above the search threshold."""
    from photo_tagger.store import DEFAULT_MIN_SCORE, TagSource, TagState

    return [t.name for t in library.store.photo_tags(photo_id)
            if t.state == TagState.ACCEPTED or t.source == TagSource.USER
            or (t.state == TagState.SUGGESTED and t.score >= DEFAULT_MIN_SCORE)]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library

    text = " ".join(args.query)
    with open_library(settings) as library:
        result = library.search(text, limit=args.limit, offset=(max(args.page, 1) - 1) * args.limit)
        rows = [{"path": hit.path, "score": round(hit.score, 4), "tags": visible_tags(library, hit.photo_id)}
                for hit in result.hits]
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if result.query != text:
        print(f"searching for: {result.query}")
    for row in rows:
        print(f"{row['score']:6.2f}  {row['path']}  [{', '.join(row['tags'][:8])}]")
    shown = f"{result.offset + 1}-{result.offset + len(rows)} of " if rows else ""
    print(f"{shown}{result.total} photos")
    return 0
