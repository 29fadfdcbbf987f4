"""Image loading for the GUI, run on pool threads only: thumbnails from the cache folder and large previews.

Everything here returns ``QImage`` (safe to build off the GUI thread); the GUI thread turns it into a ``QPixmap``.
Nothing here is called from the GUI thread: these functions read files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from photo_tagger.library import Library
from photo_tagger.store import PhotoInfo
from photo_tagger.thumbnails import THUMBNAIL_SIZE, thumbnail_path, write_thumbnail

log = logging.getLogger(__name__)

PREVIEW_MIN_SIDE = 900  # the detail panel's photo: decoded at reduced scale, at least this many pixels high or wide
PREVIEW_MAX_SIDE = 1600


@dataclass(frozen=True)
class Thumbnail:
    photo_id: int
    key: str  # the content hash, or the path and mtime of a photo that has none yet
    image: QImage | None
    error: str | None = None


@dataclass(frozen=True)
class Preview:
    photo: PhotoInfo
    image: QImage | None
    full_size: tuple[int, int]  # of the upright photo, the frame detection boxes are in
    error: str | None = None


def to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


def cache_key(photo: PhotoInfo) -> str:
    return photo.content_hash or f"{photo.path}@{photo.mtime_ns}"


def load_thumbnail(library: Library, photo_id: int) -> Thumbnail:
    """The photo's cached thumbnail; a photo the worker has not reached yet is decoded and its thumbnail written
    (atomically, under the same content-hash name the worker would use, so the worker then skips it)."""
    photo = library.store.get_photo(photo_id)
    if photo is None:
        return Thumbnail(photo_id, f"gone:{photo_id}", None, "not in the library any more")
    key = cache_key(photo)
    target = thumbnail_path(library.settings.cache_dir, photo.content_hash) if photo.content_hash else None
    if target is not None and target.is_file():
        image = QImage(str(target))
        if not image.isNull():
            return Thumbnail(photo_id, key, image)
    from photo_tagger.pipeline.images import ImageDecodeError, load_image

    try:
        decoded = load_image(photo.path, min_side=THUMBNAIL_SIZE)
    except ImageDecodeError as error:
        return Thumbnail(photo_id, key, None, error.reason)
    image = decoded.image
    if target is not None:
        try:
            write_thumbnail(image, target)
        except OSError as error:  # a read-only cache folder costs speed, not the thumbnail
            log.debug("could not write %s: %s", target, error)
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.BILINEAR)
    return Thumbnail(photo_id, key, to_qimage(image))


def load_preview(library: Library, photo_id: int) -> Preview | None:
    """The photo for the detail panel, decoded at reduced scale and fitted into ``PREVIEW_MAX_SIDE``."""
    from photo_tagger.pipeline.images import ImageDecodeError, load_image

    photo = library.store.get_photo(photo_id)
    if photo is None:
        return None
    try:
        decoded = load_image(photo.path, min_side=PREVIEW_MIN_SIDE)
    except ImageDecodeError as error:
        return Preview(photo, None, (photo.width or 0, photo.height or 0), error.reason)
    image = to_qimage(decoded.image)
    if max(image.width(), image.height()) > PREVIEW_MAX_SIDE:
        image = image.scaled(PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return Preview(photo, image, (decoded.width, decoded.height))
