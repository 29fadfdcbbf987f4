"""Fixtures for re-tag tests: a library tagged by the session's tagger (head version 1) and a second head version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PHOTO_NAMES = ["dog.jpg", "horses.jpg", "giraffe.jpg", "kite.jpg", "coral_pets.jpg", "crowd.jpg", "person.jpg"]


@pytest.fixture()
def tagged_library(library, tag_all, photos: Path, tmp_path: Path):
    folder = tmp_path / "album"
    folder.mkdir()
    for name in PHOTO_NAMES:
        shutil.copy(photos / name, folder / name)
    library.add_folder(folder)
    tag_all(library)
    return library


@pytest.fixture(scope="session")
def tagger_v2(settings, second_head: Path):
    from photo_tagger.pipeline.tagger import Tagger

    return Tagger(settings, head_path=second_head)
