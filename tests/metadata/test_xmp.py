"""XMP sidecars on their own: the packet model, merging into existing sidecars, failures, embedded keywords.

Every sidecar written here is read back by exiftool, an independent XMP implementation.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from photo_tagger.metadata.hierarchy import KeywordHierarchy, default_hierarchy
from photo_tagger.metadata.keywords import embedded_keywords, read_keywords
from photo_tagger.metadata.sidecar import SidecarError, sidecar_path, write_keywords
from photo_tagger.metadata.sync import keyword_paths
from photo_tagger.metadata.xmp import XmpDocument, XmpError
from photo_tagger.store import PhotoTagInfo, TagSource, TagState

DARKTABLE_SIDECAR = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   xmp:Rating="4"
   darktable:xmp_version="5">
   <!-- edited in darktable -->
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Rex at the lake</rdf:li></rdf:Alt></dc:title>
   <dc:subject><rdf:Bag><rdf:li>Holiday</rdf:li><rdf:li>Dog</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Lake Garda</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def keywords(read, path: Path) -> tuple[list[str], list[str]]:
    data = read(path)
    return data["subject"], data["hierarchical"]


def test_hierarchy_from_the_imagenet_table() -> None:
    hierarchy = default_hierarchy()
    assert hierarchy.hierarchical("golden retriever") == "animal|pet|dog|retriever|golden retriever"
    # "dogsled" carries "dog" by association; that one row must not cut dog loose from animal.
    assert hierarchy.hierarchical("dog") == "animal|pet|dog"
    assert hierarchy.hierarchical("sports car") == "vehicle|car|sports car"
    assert hierarchy.hierarchical("holiday") == "holiday"  # unknown: flat
    # Synonyms (the same classes) are not each other's parent; a chain needs strictly more classes per step.
    table = [["seashore", "coast", "beach"], ["sandbar", "beach"]]
    derived = KeywordHierarchy.from_table(table)
    assert derived.hierarchical("seashore") == "beach|seashore"
    assert derived.hierarchical("coast") == "beach|coast"


def test_keyword_paths_need_grounds() -> None:
    hierarchy = default_hierarchy()

    def tag(name: str, source: str, state: TagState = TagState.ACCEPTED) -> PhotoTagInfo:
        return PhotoTagInfo(name, TagSource(source), 1.0, state, None, None, None)

    assert keyword_paths([tag("golden retriever", "tagger")], hierarchy) == {
        "golden retriever": "animal|pet|dog|retriever|golden retriever"}
    # A rejected ancestor cuts the path below it.
    assert keyword_paths([tag("golden retriever", "tagger"), tag("pet", "tagger", TagState.REJECTED)], hierarchy) == {
        "golden retriever": "dog|retriever|golden retriever"}
    # The detector's "kite" is the toy unless the photo's own tags say bird of prey; a suggestion counts as grounds.
    assert keyword_paths([tag("kite", "detector"), tag("sky", "tagger", TagState.SUGGESTED)], hierarchy) == {
        "kite": "kite"}
    assert keyword_paths([tag("dog", "user"), tag("pet", "tagger", TagState.SUGGESTED)], hierarchy) == {
        "dog": "animal|pet|dog"}
    assert keyword_paths([tag("dog", "tagger", TagState.SUGGESTED)], hierarchy) == {}  # suggestions are not written


def test_new_sidecar_is_read_by_exiftool(tmp_path: Path, photos: Path, read_keywords_exiftool) -> None:
    photo = tmp_path / "dog.jpg"
    photo.write_bytes((photos / "dog.jpg").read_bytes())
    wanted = {"dog": "animal|pet|dog", "café & co": "café & co", "rex": "rex"}
    assert write_keywords(photo, wanted) is True
    assert sidecar_path(photo) == tmp_path / "dog.jpg.xmp"
    subject, hierarchical = keywords(read_keywords_exiftool, tmp_path / "dog.jpg.xmp")
    assert subject == ["dog", "café & co", "rex"]
    assert hierarchical == ["animal|pet|dog", "café & co", "rex"]
    mtime = (tmp_path / "dog.jpg.xmp").stat().st_mtime_ns
    assert write_keywords(photo, wanted) is False  # nothing changed: not rewritten
    assert (tmp_path / "dog.jpg.xmp").stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_lightroom_naming(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_1.JPG"
    photo.write_bytes(b"")
    write_keywords(photo, {"dog": "dog"}, naming="replace")
    assert (tmp_path / "IMG_1.xmp").exists() and not (tmp_path / "IMG_1.JPG.xmp").exists()
    assert read_keywords(photo, naming="append", embedded=False).names == ["dog"]  # both namings are read


def test_foreign_content_of_a_darktable_sidecar_survives(tmp_path: Path, read_keywords_exiftool) -> None:
    photo = tmp_path / "rex.jpg"
    photo.write_bytes(b"")
    sidecar = tmp_path / "rex.jpg.xmp"
    sidecar.write_text(DARKTABLE_SIDECAR, encoding="utf-8")
    before = read_keywords_exiftool(sidecar)

    assert write_keywords(photo, {"dog": "animal|pet|dog", "lake": "lake"}) is True
    after = read_keywords_exiftool(sidecar)
    # "Dog" is there already (another spelling): not added twice; the other keywords stay, ours are appended.
    assert after["subject"] == ["Holiday", "Dog", "lake"]
    assert after["hierarchical"] == ["Places|Lake Garda", "animal|pet|dog", "lake"]
    keyword_fields = {"subject", "hierarchical", "XMP-dc:Subject", "XMP-lr:HierarchicalSubject"}
    foreign = {key: value for key, value in before.items() if key not in keyword_fields}
    assert {"XMP-xmp:Rating", "XMP-dc:Title", "XMP-darktable:HistoryOperation"} <= set(foreign)
    assert {key: after.get(key) for key in foreign} == foreign  # every other field, exactly as before
    text = sidecar.read_text(encoding="utf-8")
    assert "<!-- edited in darktable -->" in text and 'xmlns:darktable="http://darktable.sf.net/"' in text


def test_exiftool_sidecar_merge_and_take_back(tmp_path: Path, exiftool, read_keywords_exiftool) -> None:
    photo = tmp_path / "canyon.jpg"
    photo.write_bytes(b"")
    sidecar = tmp_path / "canyon.jpg.xmp"
    exiftool("-XMP-dc:Subject=sunset", "-XMP-dc:Subject=Grand Canyon", "-XMP-xmp:Rating=4",
             "-XMP-lr:HierarchicalSubject=Places|USA|Grand Canyon", "-XMP-photoshop:City=Page", sidecar)

    write_keywords(photo, {"rock": "rock", "sky": "sky"})
    data = read_keywords_exiftool(sidecar)
    assert data["subject"] == ["sunset", "Grand Canyon", "rock", "sky"]
    assert data["XMP-xmp:Rating"] == 4 and data["XMP-photoshop:City"] == "Page"

    # The user removed "sky" and rejected "sunset": both go; the other tool's keyword stays.
    write_keywords(photo, {"rock": "rock"}, drop={"sunset"})
    data = read_keywords_exiftool(sidecar)
    assert data["subject"] == ["Grand Canyon", "rock"]
    assert data["hierarchical"] == ["Places|USA|Grand Canyon", "rock"]
    assert data["XMP-xmp:Rating"] == 4 and data["XMP-photoshop:City"] == "Page"


def test_a_sidecar_that_is_not_xmp_is_left_alone(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"")
    sidecar = tmp_path / "a.jpg.xmp"
    sidecar.write_bytes(b"not xml at all")
    with pytest.raises(SidecarError, match="not an XMP sidecar"):
        write_keywords(photo, {"dog": "dog"})
    assert sidecar.read_bytes() == b"not xml at all"
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %c "%s">' % (ord("b") + i, (b"&%c;" % (ord("a") + i)) * 10) for i in range(8)) + b"]><x>&i;</x>"
    with pytest.raises(XmpError):
        XmpDocument.parse(bomb)


def test_read_only_folder_and_locked_sidecar_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    photo = folder / "a.jpg"
    photo.write_bytes(b"")
    folder.chmod(0o555)
    try:
        with pytest.raises(SidecarError, match="read-only"):
            write_keywords(photo, {"dog": "dog"})
        assert not (folder / "a.jpg.xmp").exists()
    finally:
        folder.chmod(0o755)
    locked = folder / "a.jpg.xmp"
    write_keywords(photo, {"dog": "dog"})
    locked.chmod(0o444)
    with pytest.raises(SidecarError, match="locked"):
        write_keywords(photo, {"dog": "dog", "cat": "cat"})
    assert "cat" not in locked.read_text()
    locked.chmod(0o640)
    write_keywords(photo, {"cat": "cat"})
    assert stat.S_IMODE(locked.stat().st_mode) == 0o640  # a rewrite keeps the sidecar's permissions
    assert not [p for p in os.listdir(folder) if p.endswith(".tmp")]


def test_embedded_keywords_in_jpeg_png_tiff(tmp_path: Path, photos: Path, exiftool) -> None:
    jpeg = tmp_path / "a.jpg"
    jpeg.write_bytes((photos / "dog.jpg").read_bytes())
    exiftool("-overwrite_original", "-charset", "iptc=UTF8", "-IPTC:Keywords=beach", "-IPTC:Keywords=Grand-mère",
             "-XMP-dc:Subject=holiday", "-XMP-lr:HierarchicalSubject=Places|Paris", jpeg)
    assert embedded_keywords(jpeg) == ["holiday", "Paris", "beach", "Grand-mère"]

    png, tiff = tmp_path / "b.png", tmp_path / "c.tif"
    Image.new("RGB", (8, 8), "red").save(png)
    Image.new("RGB", (8, 8), "red").save(tiff)
    exiftool("-overwrite_original", "-XMP-dc:Subject=red", "-XMP-dc:Subject=square", png)
    exiftool("-overwrite_original", "-XMP-dc:Subject=red", "-IPTC:Keywords=swatch", tiff)
    assert embedded_keywords(png) == ["red", "square"]
    assert embedded_keywords(tiff) == ["red", "swatch"]
    assert read_keywords(jpeg).names == ["holiday", "paris", "beach", "grand-mère"]  # normalised, deduplicated
