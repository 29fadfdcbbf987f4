"""``accept``, ``reject``, ``tag-add``, ``untag``: a user's decision on one tag, for photos or a query's results."""

from __future__ import annotations

import argparse

from photo_tagger.cli import UsageError
from photo_tagger.config import Settings

ACTIONS = {"accept": "accept", "reject": "reject", "tag-add": "add", "untag": "remove"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("items", nargs="+", metavar="PATH... TAG",
                        help="photo paths then the tag; with --query, just the tag")
    parser.add_argument("--query", metavar="Q", help="apply to every photo the query finds")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library

    *paths, tag = args.items
    if not paths and args.query is None:
        raise UsageError(f"give photo paths before the tag, or --query: photo-tagger {args.command} PATH... TAG")
    if not tag.strip():
        raise UsageError("the tag is empty")
    with open_library(settings) as library:
        changed = library.decide(ACTIONS[args.command], tag, paths, query=args.query)
    print(f"{args.command} {tag!r}: {changed} photo{'s' if changed != 1 else ''} changed")
    return 0
