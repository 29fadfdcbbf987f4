"""Tests for photo_tagger.pipeline.images: real files written into tmp_path from the shared test photos."""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageFile, ImageOps

from photo_tagger.pipeline import images
from photo_tagger.pipeline.images import (
    PHOTO_EXTENSIONS,
    DecodedImage,
    ImageDecodeError,
    is_photo_path,
    load_image,
)

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"
DOG = PHOTOS / "dog.jpg"  # 768x576 RGB
WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def dog() -> Image.Image:
    assert DOG.is_file(), f"the shared test photos are missing: {DOG}"
    with Image.open(DOG) as im:
        return im.convert("RGB")


def _pixels(im: Image.Image) -> np.ndarray:
    return np.asarray(im, dtype=np.int16)


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


def _png(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes = b"") -> bytes:
    """A PNG built by hand: for what Pillow cannot write (48-bit RGB) or should not allocate (huge sizes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(raw_rows)) if raw_rows else chunk(b"IDAT", b"")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


def _decode_error(path: Path, **kwargs: int) -> ImageDecodeError:
    with pytest.raises(ImageDecodeError) as info:
        load_image(path, **kwargs)
    assert info.value.path == path
    assert info.value.reason in str(info.value)
    return info.value


# --- formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "save_kwargs", "max_diff"),
    [
        (".jpg", {"quality": 95}, 3.0),
        (".png", {}, 0.0),
        (".webp", {"quality": 90}, 4.0),
        (".bmp", {}, 0.0),
        (".tif", {}, 0.0),
        (".gif", {}, 6.0),  # quantised to a 256-colour palette
        (".heic", None, 3.0),
    ],
)
def test_each_format_decodes_to_the_same_rgb_photo(
    tmp_path: Path, dog: Image.Image, ext: str, save_kwargs: dict | None, max_diff: float
) -> None:
    path = tmp_path / f"dog{ext}"
    if save_kwargs is None:
        # pillow-heif's own writer, so the test does not register the opener that load_image registers lazily
        pillow_heif.from_pillow(dog).save(path, quality=90)
    else:
        dog.save(path, **save_kwargs)

    decoded = load_image(path)

    assert isinstance(decoded, DecodedImage)
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (768, 576)
    assert (decoded.width, decoded.height, decoded.scale) == (768, 576, 1.0)
    assert _mean_abs_diff(decoded.image, dog) <= max_diff


def test_content_decides_the_format_not_the_extension(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "really_a_png.jpg"
    dog.save(path, format="PNG")
    assert _mean_abs_diff(load_image(path).image, dog) == 0.0


def test_gif_gives_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    red, blue = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (40, 30), (0, 0, 255))
    red.save(path, save_all=True, append_images=[blue], duration=100, loop=0)
    with Image.open(path) as check:
        assert check.n_frames == 2

    decoded = load_image(path)

    assert decoded.image.getpixel((20, 15)) == (255, 0, 0)


# --- orientation ----------------------------------------------------------------------------------------

# From the EXIF spec's (row 0, column 0) table: where the raster's top-left and top-right corners end up
# once the photo is shown upright.
RASTER_CORNERS_SHOWN_AT = {
    1: ("TL", "TR"),
    2: ("TR", "TL"),
    3: ("BR", "BL"),
    4: ("BL", "BR"),
    5: ("TL", "BL"),
    6: ("TR", "BR"),
    7: ("BR", "TR"),
    8: ("BL", "TL"),
}
RED, GREEN, GREY = (255, 0, 0), (0, 255, 0), (128, 128, 128)


def _marked_raster(width: int = 96, height: int = 48) -> Image.Image:
    """Grey, with a red block at the raster's top-left corner and a green block at its top-right corner."""
    raster = Image.new("RGB", (width, height), GREY)
    raster.paste(RED, (0, 0, width // 3, height // 3))
    raster.paste(GREEN, (width - width // 3, 0, width, height // 3))
    return raster


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def _colour_at(im: Image.Image, corner: str) -> tuple[int, int, int]:
    inset = 4
    x = inset if corner[1] == "L" else im.width - 1 - inset
    y = inset if corner[0] == "T" else im.height - 1 - inset
    pixel = np.array(im.getpixel((x, y)))
    return min((RED, GREEN, GREY), key=lambda c: float(np.abs(pixel - np.array(c)).sum()))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    path = tmp_path / f"o{orientation}.jpg"
    _marked_raster().save(path, quality=95, exif=_exif(orientation))

    decoded = load_image(path)

    upright = (48, 96) if orientation >= 5 else (96, 48)
    assert decoded.image.size == upright
    assert (decoded.width, decoded.height) == upright
    red_at, green_at = RASTER_CORNERS_SHOWN_AT[orientation]
    assert _colour_at(decoded.image, red_at) == RED
    assert _colour_at(decoded.image, green_at) == GREEN
    # No orientation is left on the result for a later step to apply a second time.
    assert ImageOps.exif_transpose(decoded.image).size == upright


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif", ".heic"])
@pytest.mark.parametrize("min_side", [None, 20])
def test_orientation_in_other_formats(tmp_path: Path, ext: str, min_side: int | None) -> None:
    path = tmp_path / f"o6{ext}"
    raster = _marked_raster()
    if ext == ".heic":
        heif = pillow_heif.from_pillow(raster)
        heif.info["exif"] = _exif(6).tobytes()
        heif.save(path, quality=95)
    elif ext == ".tif":
        raster.save(path, tiffinfo={0x0112: 6})
    else:
        raster.save(path, exif=_exif(6), **({"lossless": True} if ext == ".webp" else {}))

    decoded = load_image(path, min_side=min_side)

    assert (decoded.width, decoded.height) == (48, 96)
    assert decoded.image.width < decoded.image.height
    assert _colour_at(decoded.image, "TR") == RED
    assert _colour_at(decoded.image, "BR") == GREEN


# --- colour modes ---------------------------------------------------------------------------------------


def test_cmyk_jpeg(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "cmyk.jpg"
    dog.convert("CMYK").save(path, quality=95)
    with Image.open(path) as check:
        assert check.mode == "CMYK"
        # Pillow writes Adobe's inverted CMYK; read without the inversion it would come out as a negative.
        assert "adobe" in check.info

    decoded = load_image(path)

    assert decoded.image.mode == "RGB"
    assert _mean_abs_diff(decoded.image, dog) < 3.0


@pytest.mark.parametrize(("mode", "ext"), [("I;16", ".png"), ("I;16", ".tif"), ("I;16B", ".tif")])
def test_16_bit_grey_is_scaled_not_clipped(tmp_path: Path, dog: Image.Image, mode: str, ext: str) -> None:
    grey8 = np.asarray(dog.convert("L"), dtype=np.uint16)
    path = tmp_path / f"grey16{ext}"
    # 8-bit v -> 16-bit v*257 spans the full range. frombytes, because Pillow's I;16 -> I;16B convert clips.
    grey16 = (grey8 * 257).astype(">u2" if mode == "I;16B" else "<u2")
    Image.frombytes(mode, dog.size, grey16.tobytes()).save(path)
    with Image.open(path) as check:
        assert check.mode == mode

    decoded = load_image(path)

    got = np.asarray(decoded.image, dtype=np.int16)
    assert decoded.image.mode == "RGB"
    assert np.array_equal(got[..., 0], grey8.astype(np.int16))
    assert got.mean() < 200  # clipping would make nearly everything 255


def test_16_bit_rgb_png(tmp_path: Path, dog: Image.Image) -> None:
    rgb8 = np.asarray(dog, dtype=np.uint16)
    rgb16 = (rgb8 * 257).astype(">u2")
    rows = b"".join(b"\x00" + row.tobytes() for row in rgb16)
    path = tmp_path / "rgb48.png"
    path.write_bytes(_png(768, 576, 16, 2, rows))

    decoded = load_image(path)

    assert np.array_equal(np.asarray(decoded.image), rgb8.astype(np.uint8))


def test_32_bit_integer_and_float_grey(tmp_path: Path, dog: Image.Image) -> None:
    grey8 = np.asarray(dog.convert("L"))
    as_int = tmp_path / "grey32.tif"
    Image.fromarray(grey8.astype(np.int32) * 257).save(as_int)  # 16-bit range stored in a 32-bit image
    as_float = tmp_path / "greyf.tif"
    Image.fromarray(grey8.astype(np.float32) / 255).save(as_float)  # the usual [0, 1] float convention

    for path, mode in ((as_int, "I"), (as_float, "F")):
        with Image.open(path) as check:
            assert check.mode == mode
        got = np.asarray(load_image(path).image, dtype=np.int16)[..., 0]
        assert np.abs(got - grey8).max() <= 1, mode


def test_1_bit(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "bw.png"
    bw = dog.convert("1")
    bw.save(path)

    got = np.asarray(load_image(path).image)

    assert set(np.unique(got)) == {0, 255}
    assert np.array_equal(got[..., 1], np.asarray(bw.convert("L")))


def test_palette_transparency_becomes_white(tmp_path: Path, dog: Image.Image) -> None:
    paletted = dog.quantize(255)
    palette = paletted.getpalette() or []
    paletted.putpalette(palette[: 255 * 3] + [0, 0, 0])  # index 255 is black: ignoring tRNS shows black
    paletted.paste(255, (0, 0, 384, 576))  # left half transparent
    path = tmp_path / "p_trns.png"
    paletted.save(path, transparency=255)
    gif = tmp_path / "p_trns.gif"
    paletted.save(gif, transparency=255)

    for p in (path, gif):
        got = np.asarray(load_image(p).image)
        assert (got[:, :384] == 255).all(), p.suffix
        opaque = Image.fromarray(got[:, 384:])
        assert _mean_abs_diff(opaque, dog.crop((384, 0, 768, 576))) < 8, p.suffix


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_onto_white(tmp_path: Path, dog: Image.Image, mode: str) -> None:
    base = dog.convert(mode)
    black = Image.new(mode, (256, 576), 0)  # transparent or half-transparent black
    base.paste(black, (0, 0))
    alpha = Image.new("L", dog.size, 255)
    alpha.paste(0, (0, 0, 128, 576))
    alpha.paste(128, (128, 0, 256, 576))
    base.putalpha(alpha)
    path = tmp_path / f"alpha_{mode}.png"
    base.save(path)

    got = np.asarray(load_image(path).image, dtype=np.int16)

    assert (got[:, :128] == 255).all()  # fully transparent black -> white, not black
    assert np.abs(got[:, 128:256] - 127).max() <= 1  # half-transparent black over white -> mid grey
    assert np.array_equal(got[:, 256:], np.asarray(dog.convert(mode).convert("RGB"))[:, 256:])


# --- reduced decoding -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory, dog: Image.Image) -> Path:
    """An odd-sized 2403x1601 JPEG, so that the draft's rounding is exercised."""
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    dog.resize((2403, 1601), Image.Resampling.BILINEAR).save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def turned_jpeg(tmp_path_factory: pytest.TempPathFactory, dog: Image.Image) -> Path:
    """A 1601x2403 (portrait) raster with EXIF orientation 8, shown as a 2403x1601 landscape photo."""
    path = tmp_path_factory.mktemp("turned") / "turned.jpg"
    dog.resize((2403, 1601), Image.Resampling.BILINEAR).transpose(Image.Transpose.ROTATE_270).save(
        path, quality=90, exif=_exif(8)
    )
    return path


@pytest.mark.parametrize("jpeg", ["big_jpeg", "turned_jpeg"])
@pytest.mark.parametrize("min_side", [1, 100, 200, 201, 256, 400, 401, 800, 801, 1601, 5000])
def test_min_side_keeps_the_shorter_side_and_reports_the_full_size(
    request: pytest.FixtureRequest, jpeg: str, min_side: int
) -> None:
    decoded = load_image(request.getfixturevalue(jpeg), min_side=min_side)

    assert (decoded.width, decoded.height) == (2403, 1601)
    assert decoded.image.width > decoded.image.height  # upright
    assert decoded.scale == decoded.image.width / 2403
    if min_side <= 1601:
        assert min_side <= min(decoded.image.size) < 2 * min_side  # large enough, and not wastefully larger
    else:
        assert decoded.image.size == (2403, 1601)  # a photo smaller than asked comes back whole


@pytest.mark.parametrize(
    ("min_side", "size"),
    [
        (800, (1202, 801)),  # draft 1/2 (sizes round up)
        (400, (601, 401)),  # draft 1/4
        (200, (301, 201)),  # draft 1/8, libjpeg's smallest DCT scale
        (100, (151, 101)),  # draft 1/8, then reduce(2)
    ],
)
def test_min_side_uses_the_jpeg_draft(big_jpeg: Path, min_side: int, size: tuple[int, int]) -> None:
    assert load_image(big_jpeg, min_side=min_side).image.size == size


def test_min_side_with_orientation_swaps_the_full_size(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "portrait.jpg"
    dog.resize((2400, 1600)).save(path, quality=90, exif=_exif(6))

    decoded = load_image(path, min_side=256)

    assert (decoded.width, decoded.height) == (1600, 2400)
    assert decoded.image.size == (400, 600)
    assert decoded.scale == 0.25


@pytest.mark.parametrize("orientation", [1, 6])
def test_min_side_may_use_an_embedded_heif_thumbnail(
    tmp_path: Path, dog: Image.Image, orientation: int
) -> None:
    path = tmp_path / "thumbed.heic"
    heif = pillow_heif.from_pillow(dog.resize((800, 600)))
    heif.info["exif"] = _exif(orientation).tobytes()
    heif.save(path, quality=80, thumbnails=[200])  # a 200x150 thumbnail beside the 800x600 photo
    upright = (600, 800) if orientation == 6 else (800, 600)

    thumbed = load_image(path, min_side=150)
    too_small = load_image(path, min_side=151)

    assert (thumbed.width, thumbed.height) == (too_small.width, too_small.height) == upright
    assert thumbed.image.size == (upright[0] // 4, upright[1] // 4)
    assert thumbed.scale == 0.25
    assert min(too_small.image.size) >= 151  # the thumbnail is not used when it is too small


def test_min_side_reduces_other_formats(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "big.png"
    dog.resize((1201, 801)).save(path)

    decoded = load_image(path, min_side=256)

    assert (decoded.width, decoded.height) == (1201, 801)
    assert decoded.image.size == (401, 267)  # reduce(3), rounding up


def test_min_side_must_be_positive(big_jpeg: Path) -> None:
    with pytest.raises(ValueError, match="min_side"):
        load_image(big_jpeg, min_side=0)


# --- bad input ------------------------------------------------------------------------------------------


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()
    assert _decode_error(path).reason == "file is empty (0 bytes)"


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: eggs, milk\n")
    assert _decode_error(path).reason == "not an image file (unrecognised format)"


def test_postscript_named_jpg_is_not_handed_to_ghostscript(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "eps.jpg"
    dog.save(path, format="EPS")
    assert _decode_error(path).reason == "not an image file (unrecognised format)"


@pytest.mark.parametrize("min_side", [None, 64])
def test_truncated_jpeg(tmp_path: Path, min_side: int | None) -> None:
    data = DOG.read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])

    error = _decode_error(path, **({"min_side": min_side} if min_side else {}))

    assert error.reason.startswith("truncated or corrupt image data: ")
    assert "truncated" in error.reason.removeprefix("truncated or corrupt image data: ")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_png(tmp_path: Path, dog: Image.Image) -> None:
    whole = tmp_path / "whole.png"
    dog.save(whole)
    path = tmp_path / "cut.png"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert _decode_error(path).reason.startswith("truncated or corrupt image data: ")


def test_png_cut_inside_its_header(tmp_path: Path, dog: Image.Image) -> None:
    whole = tmp_path / "whole.png"
    dog.save(whole)
    path = tmp_path / "cut.png"
    path.write_bytes(whole.read_bytes()[:40])
    assert _decode_error(path).reason == "truncated or corrupt image data: the PNG header could not be read"


def test_corrupt_png_data(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "bitflip.png"
    dog.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert _decode_error(path).reason.startswith("truncated or corrupt image data: ")


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "album.jpg"
    path.mkdir()
    assert _decode_error(path).reason == "is a directory, not a file"


def test_missing_file(tmp_path: Path) -> None:
    assert _decode_error(tmp_path / "gone.jpg").reason == "file not found"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    assert _decode_error(path).reason == "not a regular file"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.jpg"
    path.write_bytes(DOG.read_bytes())

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    # The module's own name `open` shadows the builtin; root ignores chmod, so this is the portable way.
    monkeypatch.setattr(images, "open", refuse, raising=False)
    assert _decode_error(path).reason == "permission denied"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_by_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "locked.jpg"
    path.write_bytes(DOG.read_bytes())
    path.chmod(0)
    try:
        assert _decode_error(path).reason == "permission denied"
    finally:
        path.chmod(0o644)


def test_decompression_bomb_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png(100_000, 100_000, 8, 2))  # 10^10 pixels claimed, a few bytes on disk

    reason = _decode_error(path).reason

    assert reason.startswith("image too large: 10000000000 pixels exceeds the limit of ")
    assert reason.endswith("(possible decompression bomb)")


def test_pixel_limit_is_the_module_constant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100_000_000)
    path = tmp_path / "big_header.png"
    # 120 M pixels: above Pillow's warning threshold (89 M) and below its hard limit (179 M)
    path.write_bytes(_png(12_000, 10_000, 8, 0))

    reason = _decode_error(path).reason

    assert reason == (
        "image too large: 120000000 pixels exceeds the limit of 100000000 (possible decompression bomb)"
    )
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_small_bomb_with_a_lowered_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    reason = _decode_error(DOG).reason
    assert reason == "image too large: 442368 pixels exceeds the limit of 10000 (possible decompression bomb)"


def test_pillow_global_limit_is_left_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    load_image(DOG)
    assert before == Image.MAX_IMAGE_PIXELS
    # Pillow refuses above 2 * its limit by itself; a larger MAX_PIXELS would be a promise not kept.
    assert before is None or 2 * before >= images.MAX_PIXELS


def test_error_type_and_attributes(tmp_path: Path) -> None:
    error = _decode_error(tmp_path / "gone.jpg")
    assert isinstance(error, Exception)
    assert isinstance(error.path, Path)
    assert str(error) == f"cannot decode image {tmp_path / 'gone.jpg'}: file not found"


# --- file names and threads -----------------------------------------------------------------------------


def test_photo_extensions() -> None:
    jpeg = {".jpg", ".jpeg", ".jpe"}
    expected = jpeg | {".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".hif"}
    assert isinstance(PHOTO_EXTENSIONS, frozenset)
    assert expected == PHOTO_EXTENSIONS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_0001.JPG", True),
        ("scan.TIFF", True),
        ("iphone.HEIC", True),
        ("a/b/c.hif", True),
        ("clip.mov", False),
        ("notes.txt", False),
        ("jpg", False),
        (".jpg", False),  # a hidden file with no extension
        ("._IMG_0001.JPG", False),  # macOS AppleDouble fork
    ],
)
def test_is_photo_path(name: str, expected: bool) -> None:
    assert is_photo_path(name) is expected
    assert is_photo_path(Path(name)) is expected


def test_parallel_decodes_match_sequential(tmp_path: Path, dog: Image.Image) -> None:
    paths = []
    for i, ext in enumerate([".jpg", ".png", ".webp", ".tif", ".gif", ".bmp"] * 3):
        path = tmp_path / f"p{i}{ext}"
        dog.rotate(i * 20).save(path)
        paths.append(path)
    sequential = [np.asarray(load_image(p, min_side=128).image) for p in paths]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ThreadPoolExecutor(max_workers=8) as pool:
            parallel = list(pool.map(lambda p: np.asarray(load_image(p, min_side=128).image), paths))

    for path, a, b in zip(paths, sequential, parallel, strict=True):
        assert np.array_equal(a, b), path.name
