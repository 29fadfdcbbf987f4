"""``photo-tagger purge``: forget photos marked missing, with their tags (after you checked they are gone)."""

from __future__ import annotations

import argparse

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library

    with open_library(settings) as library:
        purged = library.purge_missing()
    print(f"purged {purged} missing photos")
    return 0
