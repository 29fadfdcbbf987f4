"""Fixtures for library tests: a real SQLite library in a temporary folder, real photos, the session's tagger."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PHOTO_NAMES = ["dog.jpg", "horses.jpg", "giraffe.jpg", "kite.jpg", "coral_pets.jpg", "crowd.jpg"]


@pytest.fixture()
def album(tmp_path: Path, photos: Path) -> Path:
    """A folder of real photos, one in a subfolder, one hidden folder that must be ignored."""
    folder = tmp_path / "album"
    (folder / "trip").mkdir(parents=True)
    (folder / ".thumbs").mkdir()
    for name in PHOTO_NAMES:
        target = folder / ("trip" if name == "giraffe.jpg" else "") / name
        shutil.copy(photos / name, target)
    shutil.copy(photos / "eagle.jpg", folder / ".thumbs" / "eagle.jpg")
    return folder
