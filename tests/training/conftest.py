"""Fixtures for the training tests: a real Flickr8k subset with real backbone features, computed once per session.

The features land in the session's temporary cache (the ``settings`` fixture), where the CLI tests find them again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUBSET = 160  # photos: enough for a few tags with >= 8 images, quick to extract (about 5 s per view on 2 cores)
VIEWS = ("centre", "flip")


@pytest.fixture(scope="session")
def flickr8k(shared: Path) -> Path:
    return shared / "data" / "flickr8k"


@pytest.fixture(scope="session")
def subset(flickr8k: Path):
    from photo_tagger.training.loaders import load_captions

    return load_captions(flickr8k, limit=SUBSET, min_images=8)


@pytest.fixture(scope="session")
def backbone(settings):
    from photo_tagger.pipeline.backbones.runtime import Backbone

    return Backbone.from_settings(settings, threads=settings.thread_count())


@pytest.fixture(scope="session")
def subset_features(subset, backbone, settings):
    from photo_tagger.training.features import extract_features

    return extract_features(subset, backbone, settings.cache_dir, VIEWS, progress=False)
