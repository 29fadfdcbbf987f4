"""Thumbnails in the cache folder, keyed by content hash: a moved photo keeps its thumbnail, a changed one gets new."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

THUMBNAIL_SIZE = 256


def thumbnail_path(cache_dir: Path, content_hash: str) -> Path:
    return cache_dir / "thumbnails" / content_hash[:2] / f"{content_hash}.jpg"


def write_thumbnail(image: Image.Image, target: Path, size: int = THUMBNAIL_SIZE) -> Path:
    """Save an upright image's thumbnail (longer side ``size``) atomically: readers never see half a file."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            thumb.convert("RGB").save(handle, "JPEG", quality=85)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
