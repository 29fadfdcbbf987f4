"""Where the shipped resources (tag tables, vocabulary, model manifest, trained heads) live."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The repository's ``resources/`` folder, beside the package."""
    return Path(__file__).resolve().parents[1] / "resources"
