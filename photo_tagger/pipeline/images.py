"""Decode a photo file into an upright 8-bit RGB image, or fail with one typed error.

Every other stage (backbone, detector, thumbnails) wants the same thing from a file: an RGB image the right
way up, often only a few hundred pixels across, plus the size of the full photo, so that boxes found on the
small image map back to the original pixels. This module is the only place that knows about formats, EXIF
orientation, colour modes and the many ways a file can be broken; callers see :class:`DecodedImage` or
:class:`ImageDecodeError`, nothing else.

It stays plain Pillow because Pillow releases the GIL while it decodes, reduces and converts, so the
engine's thread pool decodes several photos at once.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from .errors import PipelineError

logger = logging.getLogger(__name__)

PHOTO_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".hif"}
)

# Checked against the header's size before any pixel is decoded. Pillow on its own refuses anything above
# 2 * Image.MAX_IMAGE_PIXELS (178,956,970 by default), and this module leaves that process-wide setting
# alone, so a larger value here would have no effect. 178 M still fits a 150-megapixel camera.
MAX_PIXELS = 178_000_000

# Only the formats photos come in: a file named .jpg that is really EPS must not start Ghostscript, and a
# short list identifies faster. pillow-heif registers "HEIF"; "MPO" is Pillow's name for a camera JPEG that
# carries extra frames (a preview, or the second eye of a stereo pair).
_PHOTO_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF", "HEIF")

# Leading bytes of those formats. A file that starts like a photo but that Pillow cannot identify has a
# broken header, which tells the user something different from "this is not a picture at all".
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"RIFF", "WebP"),
)

# EXIF orientation -> the transpose that makes the photo upright (the table of ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})

# Modes that Image.reduce averages correctly, so a big image can shrink before it is converted. Not P or PA
# (averaging palette indices is meaningless), nor 1 or I;16, which reduce() rejects.
_REDUCE_FIRST_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "YCbCr"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_WHITE = (255, 255, 255)

_setup_lock = threading.Lock()
_open_formats: tuple[str, ...] | None = None  # set once by _ensure_setup
# warnings.catch_warnings swaps a process-wide filter list; the lock keeps this module's threads from
# interleaving their swaps, which could leave a stale filter list behind.
_warnings_lock = threading.Lock()


class ImageDecodeError(PipelineError):
    """A file could not be turned into an image; ``reason`` is a short sentence fit to show the user.

    Raised for every bad input (missing, unreadable, empty, not an image, truncated, corrupt, too large), so
    the worker needs one ``except`` to record the photo's error and carry on with the next file.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot decode image {self.path}: {reason}")


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image and the size of the full-resolution upright photo it came from.

    ``image`` may be smaller than the photo when ``load_image`` was given ``min_side``; ``width`` and
    ``height`` are always the full photo's, so a box found on ``image`` maps back as ``x / scale``. Example:
    a 4000x3000 JPEG with EXIF orientation 6, loaded with ``min_side=256``, gives a 375x500 image,
    ``width=3000``, ``height=4000`` and ``scale=0.125``.

    The image carries no metadata: its orientation has been applied, and EXIF left on it would only tempt a
    later step into rotating it twice.
    """

    image: Image.Image
    width: int
    height: int

    @property
    def scale(self) -> float:
        """``image.width / width``: 1.0 for a full decode, smaller when the decoder reduced the photo."""
        return self.image.width / self.width


def is_photo_path(path: str | os.PathLike[str]) -> bool:
    """True when the file name ends in one of ``PHOTO_EXTENSIONS`` (any case).

    macOS "._name.jpg" files (AppleDouble forks left on shared and external drives) carry the photo's
    extension but are not photos; skipping them spares the user one decode error per real photo.
    """
    path = Path(path)
    return not path.name.startswith("._") and path.suffix.lower() in PHOTO_EXTENSIONS


def load_image(path: str | os.PathLike[str], min_side: int | None = None) -> DecodedImage:
    """Decode ``path`` into an upright RGB image; raise ``ImageDecodeError`` for any bad input.

    With ``min_side`` the decoder may return a smaller image whose shorter side is still at least
    ``min_side``, so a later resize only ever shrinks: JPEGs decode at 1/2, 1/4 or 1/8 scale through
    ``Image.draft``, HEIF may use an embedded thumbnail, and whatever is still twice as big or more shrinks by
    an integer factor through ``Image.reduce``. A photo smaller than ``min_side`` comes back at full size.
    Every reduction scales both sides alike, so the shorter side is the same before and after the EXIF
    rotation, and the guarantee holds for the upright image.

    Colours: CMYK, 1-bit, grey, palette and 16-bit images become 8-bit RGB; 16-bit values are scaled
    (65535 -> 255), not clipped; transparent pixels are composited onto white.
    """
    if min_side is not None and min_side < 1:
        raise ValueError(f"min_side must be a positive number of pixels, got {min_side}")
    path = Path(path)
    _check_is_regular_file(path)
    _ensure_setup()
    try:
        with open(path, "rb") as fp:
            return _decode(fp, path, min_side)
    except ImageDecodeError:
        raise
    except FileNotFoundError:  # deleted between the check above and the open
        raise ImageDecodeError(path, "file not found") from None
    except PermissionError:
        raise ImageDecodeError(path, "permission denied") from None
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(path, _too_large_reason(str(exc))) from None
    except MemoryError:
        raise ImageDecodeError(path, "not enough memory to decode the image") from None
    except OSError as exc:
        if exc.errno is not None:  # the disk or the network share failed, not the data
            raise ImageDecodeError(path, f"cannot read file: {exc.strerror or exc}") from None
        raise ImageDecodeError(path, f"truncated or corrupt image data: {_describe(exc)}") from None
    except Exception as exc:  # Pillow's plugins raise many types on malformed data
        logger.debug("decoding %s failed", path, exc_info=True)
        raise ImageDecodeError(path, f"truncated or corrupt image data: {_describe(exc)}") from None


def _check_is_regular_file(path: Path) -> None:
    """Fail early and clearly on anything but a non-empty regular file (a FIFO would block ``open``)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageDecodeError(path, "file not found") from None
    except PermissionError:
        raise ImageDecodeError(path, "permission denied") from None
    except OSError as exc:
        raise ImageDecodeError(path, f"cannot read file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageDecodeError(path, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageDecodeError(path, "not a regular file")
    if st.st_size == 0:
        raise ImageDecodeError(path, "file is empty (0 bytes)")


def _ensure_setup() -> None:
    """Register pillow-heif's opener and load Pillow's plugins, once, on the first decode.

    Lazily, so that importing this module stays cheap; under a lock, so that two first decodes on the pool
    do not both register. Without pillow-heif, HEIC files fail as unrecognised and everything else works.
    """
    global _open_formats
    if _open_formats is not None:
        return
    with _setup_lock:
        if _open_formats is not None:
            return
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            logger.warning("pillow-heif is not installed; HEIC/HEIF photos cannot be decoded")
        else:
            register_heif_opener()
        Image.init()
        _open_formats = tuple(name for name in _PHOTO_FORMATS if name in Image.OPEN)


@contextmanager
def _bomb_warning_silenced() -> Iterator[None]:
    """Silence Pillow's DecompressionBombWarning: MAX_PIXELS, checked by this module, is the policy."""
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _decode(fp: IO[bytes], path: Path, min_side: int | None) -> DecodedImage:
    assert _open_formats is not None
    with _bomb_warning_silenced():  # Image.open reads only the header, so the lock is held briefly
        try:
            im = Image.open(fp, formats=_open_formats)
        except UnidentifiedImageError:
            fp.seek(0)
            raise ImageDecodeError(path, _unidentified_reason(fp.read(16))) from None
    header_size = im.size
    pixels = header_size[0] * header_size[1]
    if pixels > MAX_PIXELS:
        raise ImageDecodeError(path, _too_large_reason_for(pixels, MAX_PIXELS))

    # A square request keeps both sides >= min_side, whichever way the photo is turned afterwards.
    reduced = min_side is not None and im.draft("RGB", (min_side, min_side)) is not None
    if pixels > (Image.MAX_IMAGE_PIXELS or pixels):
        # Pillow warns again while loading some big images (TIFF). Those rare giants decode one at a time,
        # which also keeps several of them from filling memory together.
        with _bomb_warning_silenced():
            im.load()
    else:
        im.load()  # the full decode happens here, so truncated data raises here and not in a later stage

    orientation = _read_orientation(im, path)
    # Some plugins turn the image while loading (Pillow's TIFF applies its orientation tag, then drops it),
    # so the loaded size is the truth. It differs from the full size only after a draft, and the plugins
    # that draft (JPEG, HEIF) do not turn, so the header size is then the full size in the raster's own axes.
    full_w, full_h = header_size if reduced else im.size
    if orientation in _SWAPS_AXES:
        full_w, full_h = full_h, full_w

    image: Image.Image = im
    if min_side is not None and image.mode in _REDUCE_FIRST_MODES and "transparency" not in image.info:
        image = _shrink(image, min_side)  # before the conversion, which then has less to convert
    image = _to_rgb(image, path)
    if min_side is not None:
        image = _shrink(image, min_side)
    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])
    image.info = {}
    return DecodedImage(image=image, width=full_w, height=full_h)


def _read_orientation(im: Image.Image, path: Path) -> int:
    """The EXIF (or XMP) orientation still to apply; 1 when absent, unreadable or not one of the eight.

    A broken EXIF block is common in edited photos and must not cost the user the photo.
    """
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # EXIF parsing raises many types on malformed blocks
        logger.debug("unreadable EXIF in %s; assuming upright", path, exc_info=True)
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _shrink(image: Image.Image, min_side: int) -> Image.Image:
    """Box-average by the largest integer factor that keeps the shorter side >= min_side (rounding up)."""
    factor = min(image.size) // min_side
    return image.reduce(factor) if factor >= 2 else image


def _to_rgb(im: Image.Image, path: Path) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB; transparency is flattened onto white, as viewers show it."""
    if im.mode in _SIXTEEN_BIT_MODES or im.mode in ("I", "F"):
        im = _to_8bit_grey(im)
    try:
        if im.has_transparency_data:
            rgba = im if im.mode == "RGBA" else im.convert("RGBA")
            flat = Image.new("RGB", rgba.size, _WHITE)
            flat.paste(rgba, (0, 0), rgba)
            return flat
        return im if im.mode == "RGB" else im.convert("RGB")
    except ValueError:
        raise ImageDecodeError(path, f"unsupported colour mode {im.mode}") from None


def _to_8bit_grey(im: Image.Image) -> Image.Image:
    """Scale a 16-bit, 32-bit integer or float grey image to 8 bits.

    Pillow's own conversion clips: a 16-bit value of 40000 becomes 255, so most photos turn white. I;16
    modes are scaled by 255/65535. Modes I and F declare no range, so it is inferred from the values: F within
    [0, 1] is scaled by 255, values within [0, 255] are kept, values within [0, 65535] are taken as 16-bit,
    and anything else is stretched from its minimum to its maximum.
    """
    arr = np.asarray(im)
    if im.mode in _SIXTEEN_BIT_MODES:
        grey = (arr.astype(np.uint32) * 255 + 32767) // 65535
    else:
        values = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(values.min()), float(values.max())
        if im.mode == "F" and lo >= 0 and hi <= 1:
            grey = values * 255
        elif lo >= 0 and hi <= 255:
            grey = values
        elif lo >= 0 and hi <= 65535:
            grey = values / 257
        else:
            grey = (values - lo) * (255 / (hi - lo))
        grey = np.rint(grey)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


def _unidentified_reason(prefix: bytes) -> str:
    if prefix[4:8] == b"ftyp":
        return "truncated or corrupt image data: the HEIF header could not be read"
    for signature, name in _SIGNATURES:
        if prefix.startswith(signature):
            return f"truncated or corrupt image data: the {name} header could not be read"
    return "not an image file (unrecognised format)"


def _too_large_reason_for(pixels: int, limit: int) -> str:
    return f"image too large: {pixels} pixels exceeds the limit of {limit} (possible decompression bomb)"


def _too_large_reason(pillow_message: str) -> str:
    """Reword Pillow's DecompressionBombError like our own, naming MAX_PIXELS when that limit is lower."""
    match = re.search(r"\((\d+) pixels\) exceeds limit of (\d+)", pillow_message)
    if match is None:
        return f"image too large: {pillow_message} (possible decompression bomb)"
    return _too_large_reason_for(int(match[1]), min(int(match[2]), MAX_PIXELS))


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
