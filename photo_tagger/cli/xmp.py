"""``xmp write`` / ``xmp import``: the library's tags to XMP sidecars, and photos' own keywords into the library.

    photo-tagger xmp write                      every photo's accepted and user tags -> photo.jpg.xmp
    photo-tagger xmp write --query "beach"      just the photos a query finds
    photo-tagger xmp import [PATH...]           keywords from sidecars, embedded XMP and IPTC -> user tags

Each file that could not be written is printed with its reason, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import sys

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("write", "import"),
                        help="write: tags to sidecars (naming: PHOTO_TAGGER_XMP_SIDECAR=append|replace); "
                             "import: keywords already in the photos and sidecars become user tags")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="only these photos (default: the whole library)")
    parser.add_argument("--query", metavar="Q", help="only the photos this query finds")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library
    from photo_tagger.metadata import import_keywords, write_sidecars

    with open_library(settings) as library:
        ids = [library.photo(path).id for path in args.paths]
        if args.query is not None:
            ids += library.query_ids(args.query)
        if not args.paths and args.query is None:
            ids = library.store.photo_ids()
        if args.action == "write":
            report = write_sidecars(library.store, ids, settings)
            failed = report.failed
            summary = (f"{_count(len(report.written), 'sidecar')} written, {len(report.unchanged)} unchanged, "
                       f"{len(report.skipped)} skipped (photo missing), {len(failed)} failed")
        else:
            imported = import_keywords(library.store, ids, settings)
            failed = imported.failed
            tags = sum(len(names) for names in imported.added.values())
            summary = (f"{_count(tags, 'keyword')} imported as user tags on {_count(len(imported.added), 'photo')}, "
                       f"{len(failed)} failed")
    for path, reason in failed:
        print(f"photo-tagger xmp: {path}: {reason.removeprefix(path + ': ')}", file=sys.stderr)
    print(summary)
    return 1 if failed else 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
