"""XMP sidecars beside photos: where they live, merging keywords into them, and writing them atomically.

Two namings are in use, and the setting ``xmp_sidecar`` picks the one written:

``append`` (default)
    ``IMG_1234.jpg.xmp``: darktable's, and digiKam's default. A RAW and its JPEG get separate sidecars.
``replace``
    ``IMG_1234.xmp``: Lightroom's, and a digiKam option.

Reading looks at both, so keywords written by either kind of tool are found.

A write never loses what a sidecar holds: the file is parsed, only ``dc:subject``, ``lr:hierarchicalSubject`` and
photo-tagger's own record of what it wrote are replaced, and the rest is written back as it was. A sidecar that is
not valid XMP is left alone and reported, as are a read-only folder and a read-only ("locked") sidecar: read-only
permission bits are honoured even for a user who could override them (root), because they are how a user says
"do not touch".
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping, Set
from pathlib import Path

from photo_tagger.config import SIDECAR_NAMINGS
from photo_tagger.metadata.hierarchy import leaf
from photo_tagger.metadata.xmp import DC, LR, PHOTO_TAGGER, XmpDocument, XmpError
from photo_tagger.store import normalise_tag

NAMINGS = SIDECAR_NAMINGS
NEW_FILE_MODE = 0o644


class SidecarError(Exception):
    """A sidecar that could not be read or written; the message says which file and why."""


def sidecar_path(photo: str | os.PathLike[str], naming: str = "append") -> Path:
    """``photo.jpg.xmp`` (``append``) or ``photo.xmp`` (``replace``)."""
    photo = Path(photo)
    if naming == "append":
        return photo.with_name(photo.name + ".xmp")
    if naming == "replace":
        return photo.with_suffix(".xmp")
    raise ValueError(f"unknown sidecar naming {naming!r}: use one of {', '.join(NAMINGS)}")


def sidecar_candidates(photo: str | os.PathLike[str], naming: str = "append") -> list[Path]:
    """The sidecars a photo may have, the configured naming first."""
    order = [naming, *(n for n in NAMINGS if n != naming)]
    return list(dict.fromkeys(sidecar_path(photo, n) for n in order))


def read_sidecar(path: Path) -> XmpDocument | None:
    """The parsed sidecar, or None when there is none; SidecarError when it cannot be read or is not XMP."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SidecarError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return XmpDocument.parse(data)
    except XmpError as error:
        raise SidecarError(f"{path}: not an XMP sidecar ({error}); left unchanged") from None


def merge_keywords(document: XmpDocument, wanted: Mapping[str, str], drop: Set[str] = frozenset()) -> bool:
    """Put the ``wanted`` keywords (normalised name -> hierarchical path) into the document; True if it changed.

    Removed are keywords in ``drop`` (tags the user rejected) and keywords photo-tagger wrote last time that are no
    longer wanted (tags the user removed), as are hierarchical keywords it wrote that have a new path now; any other
    keyword stays, whoever wrote it. A keyword already there in another spelling ("Dog") or under another
    hierarchy ("Pets|Dog") is not added again.
    """
    previous = set(document.array(PHOTO_TAGGER, "written"))  # the hierarchical keywords written last time
    drop = set(drop) | ({normalise_tag(leaf(v)) for v in previous} - set(wanted))
    stale = previous - set(wanted.values())
    subject = [v for v in document.array(DC, "subject") if normalise_tag(v) not in drop]
    have = {normalise_tag(v) for v in subject}
    subject += [name for name in wanted if name not in have]
    paths = [v for v in document.array(LR, "hierarchicalSubject")
             if normalise_tag(leaf(v)) not in drop and v not in stale]
    leaves = {normalise_tag(leaf(v)) for v in paths}
    paths += [path for name, path in wanted.items() if name not in leaves]
    changed = document.set_array(DC, "subject", subject)
    changed |= document.set_array(LR, "hierarchicalSubject", paths)
    changed |= document.set_array(PHOTO_TAGGER, "written", sorted(wanted.values()))
    return changed


def write_keywords(photo: str | os.PathLike[str], wanted: Mapping[str, str], drop: Set[str] = frozenset(),
                   naming: str = "append") -> bool:
    """Merge keywords into the photo's sidecar (created when needed); True if the file was written.

    No file is created for a photo with nothing to write; an unchanged sidecar is not rewritten (its mtime stays,
    so tools that watch sidecars see no change).
    """
    path = sidecar_path(photo, naming)
    document = read_sidecar(path)
    if document is None:
        if not wanted:
            return False
        document = XmpDocument.new()
    if not merge_keywords(document, wanted, drop):
        return False
    atomic_write(path, document.serialize())
    return True


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and a rename, so a reader never sees half a file."""
    check_writable(path)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else NEW_FILE_MODE
    temp = None
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
        temp = None
    except OSError as error:
        raise SidecarError(f"{path}: cannot write: {error.strerror or error}") from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


def check_writable(path: Path) -> None:
    """SidecarError when the folder or an existing sidecar is read-only (see the module docstring)."""
    folder = path.parent
    try:
        folder_mode = folder.stat().st_mode
    except OSError as error:
        raise SidecarError(f"{path}: cannot write: folder {folder}: {error.strerror or error}") from None
    if not folder_mode & 0o222 or not os.access(folder, os.W_OK | os.X_OK):
        raise SidecarError(f"{path}: cannot write: folder {folder} is read-only")
    try:
        file_mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise SidecarError(f"{path}: cannot write: {error.strerror or error}") from None
    if not stat.S_ISREG(file_mode):
        raise SidecarError(f"{path}: cannot write: it is not a regular file")
    if not file_mode & 0o222 or not os.access(path, os.W_OK):
        raise SidecarError(f"{path}: cannot write: the sidecar is read-only (locked)")
