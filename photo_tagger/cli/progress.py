"""The CLI's progress bar (tqdm on stderr), shared by every long-running command."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm


def progress_bar(total: int | None, description: str, unit: str = "photo", enabled: bool | None = None) -> tqdm:
    """A bar on stderr; ``enabled=None`` shows it only when stderr is a terminal (not in pipes or logs)."""
    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=disable, dynamic_ncols=True,
                unit_scale=unit == "B")


def add_progress_flags(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``; without either, the bar shows when stderr is a terminal."""
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
