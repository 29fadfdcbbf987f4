"""Which TaggerNet head tags a library: the shipped one, or a personal head learned from the user's decisions.

Personal heads are learned from one library's decisions, so they live beside that library, one folder per version
(``<library>-heads/<version>/``, the same two files as the shipped head), with ``active.json`` naming the one in use.
Old versions stay, so going back is a pointer change and a re-tag, never a retraining. ``PHOTO_TAGGER_HEAD`` (or
``Settings.head_path``) overrides all of this with an explicit folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from photo_tagger.config import Settings

ACTIVE_FILE = "active.json"


def heads_dir(settings: Settings) -> Path:
    library = Path(settings.library_path)
    return library.parent / f"{library.stem}-heads"


def active_head_dir(settings: Settings) -> Path | None:
    """The head folder to tag with, or None for the shipped head."""
    if settings.head_path is not None:
        return Path(settings.head_path)
    try:
        pointer = json.loads((heads_dir(settings) / ACTIVE_FILE).read_text(encoding="utf-8"))
        folder = heads_dir(settings) / str(pointer["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder if folder.is_dir() else None


def activate(settings: Settings, version: str) -> Path:
    """Make ``<library>-heads/<version>`` the library's head (written atomically); returns its folder."""
    folder = heads_dir(settings) / version
    if not folder.is_dir():
        raise FileNotFoundError(f"no personal head {version} in {heads_dir(settings)}")
    target = heads_dir(settings) / ACTIVE_FILE
    partial = target.with_name(f"{ACTIVE_FILE}.{os.getpid()}.part")
    partial.write_text(json.dumps({"version": version}) + "\n", encoding="utf-8")
    partial.replace(target)
    return folder


def deactivate(settings: Settings) -> None:
    """Go back to the shipped head (the personal heads stay on disk)."""
    (heads_dir(settings) / ACTIVE_FILE).unlink(missing_ok=True)
