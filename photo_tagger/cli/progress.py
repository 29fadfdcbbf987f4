"""The CLI's progress bar (tqdm on stderr), shared by every long-running command."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress_bar(total: int | None, description: str, unit: str = "photo", enabled: bool | None = None) -> tqdm:
    """A bar on stderr; ``enabled=None`` shows it only when stderr is a terminal (not in pipes or logs)."""
    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=disable, dynamic_ncols=True,
                unit_scale=unit == "B")
