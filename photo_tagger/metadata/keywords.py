"""Reading the keywords a photo already carries: its XMP sidecars, XMP embedded in the file, and IPTC Keywords.

So that a library tagged elsewhere (Lightroom, digiKam, darktable, a camera app) keeps its tags. Sources, in order:

- sidecars (``photo.jpg.xmp`` and ``photo.xmp``): ``dc:subject`` and the leaf of each ``lr:hierarchicalSubject``;
- the XMP packet inside the file (JPEG APP1, PNG ``iTXt`` "XML:com.adobe.xmp", TIFF tag 700, as Pillow reads them);
- IPTC-IIM Keywords (record 2, dataset 25) in JPEG (Photoshop APP13) and TIFF, through Pillow's IptcImagePlugin.

Names come back normalised (:func:`photo_tagger.store.normalise_tag`), without duplicates, in the order found.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from photo_tagger.metadata.hierarchy import leaf
from photo_tagger.metadata.sidecar import SidecarError, read_sidecar, sidecar_candidates
from photo_tagger.metadata.xmp import DC, LR, XmpDocument, XmpError
from photo_tagger.store import normalise_tag

log = logging.getLogger(__name__)

IPTC_KEYWORDS = (2, 25)
IPTC_CHARSET = (1, 90)
IPTC_UTF8 = b"\x1b%G"


@dataclass
class PhotoKeywords:
    """The keywords found for one photo, and the problems met (an unreadable sidecar) with their reasons."""

    names: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, values: list[str]) -> None:
        for value in values:
            name = normalise_tag(value)
            if name and name not in self.names:
                self.names.append(name)


def xmp_keywords(document: XmpDocument) -> list[str]:
    """``dc:subject`` and the leaves of ``lr:hierarchicalSubject`` ("animal|dog" -> "dog"), as written."""
    return [*document.array(DC, "subject"), *(leaf(v) for v in document.array(LR, "hierarchicalSubject"))]


def read_keywords(photo: str | os.PathLike[str], naming: str = "append", embedded: bool = True) -> PhotoKeywords:
    """Every keyword of one photo from its sidecars and (with ``embedded``) from the file itself."""
    found = PhotoKeywords()
    for path in sidecar_candidates(photo, naming):
        try:
            document = read_sidecar(path)
        except SidecarError as error:
            found.problems.append(str(error))
            continue
        if document is not None:
            found.add(xmp_keywords(document))
    if embedded:
        found.add(embedded_keywords(Path(photo)))
    return found


def embedded_keywords(path: Path) -> list[str]:
    """Keywords from the XMP packet and the IPTC record inside a photo file; [] when it has none or is unreadable.

    Only the header is read (Pillow parses metadata at open, before any pixel). A photo that cannot be opened is
    the worker's to report; here it simply has no keywords.
    """
    from PIL import Image, IptcImagePlugin

    values: list[str] = []
    try:
        with Image.open(path) as image:
            packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
            iptc = IptcImagePlugin.getiptcinfo(image) if image.format in ("JPEG", "MPO", "TIFF") else None
    except Exception as error:  # noqa: BLE001 - any decoder error means "no readable metadata"
        log.debug("no embedded metadata read from %s: %s", path, error)
        return values
    if packet:
        try:
            values += xmp_keywords(XmpDocument.parse(packet))
        except XmpError as error:
            log.info("%s: embedded XMP ignored: %s", path, error)
    if iptc:
        values += iptc_keywords(iptc)
    return values


def iptc_keywords(record: dict) -> list[str]:
    """IPTC 2:25 values: UTF-8 when 1:90 says so or when they decode as UTF-8, else Latin-1 (the old default)."""
    raw = record.get(IPTC_KEYWORDS) or []
    items = raw if isinstance(raw, list) else [raw]
    utf8 = record.get(IPTC_CHARSET) == IPTC_UTF8
    out = []
    for item in items:
        try:
            out.append(item.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(item.decode("utf-8" if utf8 else "latin-1", errors="replace"))
    return out
