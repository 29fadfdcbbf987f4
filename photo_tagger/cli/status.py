"""``photo-tagger status``: what is in the library, what is queued, and what failed."""

from __future__ import annotations

import argparse

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--errors", type=int, default=10, metavar="N", help="list up to N failed photos")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library

    with open_library(settings) as library:
        status = library.status()
    print(f"library: {settings.library_path}")
    print("photos: " + ", ".join(f"{count} {state.value}" for state, count in status.photos.items()))
    print("jobs: " + ", ".join(f"{count} {state.value}" for state, count in status.jobs.items()))
    for folder in status.folders:
        print(f"folder: {folder.path}{'' if folder.watched else ' (not watched)'}")
    for path, reason in status.errors[: args.errors]:
        print(f"failed: {path}: {reason}")
    if len(status.errors) > args.errors:
        print(f"... and {len(status.errors) - args.errors} more failed photos")
    return 0
