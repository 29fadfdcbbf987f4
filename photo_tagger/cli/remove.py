"""``photo-tagger remove FOLDER``: forget a folder and its photos' tags; the files stay where they are."""

from __future__ import annotations

import argparse

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library

    with open_library(settings) as library:
        removed = library.remove_folder(args.folder)
    print(f"removed {args.folder} from the library ({removed} photos forgotten; no files were touched)")
    return 0
