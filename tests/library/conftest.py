"""Fixtures for library tests: a real SQLite library in a temporary folder, real photos, the session's tagger."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from photo_tagger.library import Library

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


@pytest.fixture()
def library_settings(settings, tmp_path: Path):
    return replace(settings, library_path=tmp_path / "library" / "library.sqlite", cache_dir=tmp_path / "cache")


@pytest.fixture()
def library(library_settings):
    with Library.open(library_settings) as opened:
        yield opened


@pytest.fixture()
def tag_all(tagger):
    """Run the real worker to the end of the queue with the session's tagger (models already loaded)."""

    def run(library: Library):
        return library.worker(tagger=tagger).run(wait=True)

    return run
