"""``photo-tagger gui [--screenshot FILE]``: the desktop app on the library (Qt is imported only here)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from photo_tagger.config import ENV_PREFIX, Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screenshot", metavar="FILE", type=Path,
                        help="render the window at 1280x800 with the first photo selected, write a PNG and exit")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="with --screenshot: the longest to wait for thumbnails and the photo to load")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no screen
    from photo_tagger.gui.app import run as run_gui

    explicit = bool(args.library) or bool(os.environ.get(ENV_PREFIX + "LIBRARY"))
    return run_gui(settings, explicit_library=explicit, screenshot=args.screenshot, timeout_s=args.timeout)
