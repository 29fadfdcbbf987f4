"""``photo-tagger add FOLDER``: register a watched folder and queue its photos."""

from __future__ import annotations

import argparse

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folders", nargs="+", metavar="FOLDER")
    parser.add_argument("--wait", action="store_true", help="tag the queued photos now and return when done")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library, run_worker_with_progress
    from photo_tagger.cli.scan import print_report

    with open_library(settings) as library:
        for folder in args.folders:
            print_report(library.add_folder(folder))
        if args.wait:
            run_worker_with_progress(library)
    return 0
