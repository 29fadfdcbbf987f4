"""XMP with a real library: `xmp write` / `xmp import`, writing on each decision, keywords imported on first sight.

Sidecars are read back, and keywords written into photos, with exiftool: an implementation independent of ours.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from photo_tagger.cli import main
from photo_tagger.library import Library
from photo_tagger.metadata import import_keywords, write_sidecars
from photo_tagger.store import TagSource, TagState


@pytest.fixture()
def cli(library_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """``photo-tagger ...`` in this process against the test library; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("PHOTO_TAGGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PHOTO_TAGGER_CACHE_DIR", str(tmp_path / "cache"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--library", str(library_settings.library_path), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_xmp_write_accepted_and_user_tags_only(library: Library, album: Path, tag_all, cli,
                                               read_keywords_exiftool) -> None:
    library.add_folder(album)
    tag_all(library)
    dog = album / "dog.jpg"
    _, tags = library.tags_of(dog)
    suggested = [t.name for t in tags if t.state == TagState.SUGGESTED]
    assert "dog" in suggested and "animal" in suggested and len(suggested) >= 4
    library.decide("accept", "dog", [dog])
    library.decide("accept", "animal", [dog])
    library.decide("reject", suggested[-1], [dog])
    library.decide("add", "Rex", [dog])

    code, out, err = cli("xmp", "write")
    assert code == 0, err
    assert "2 sidecars written, 1 unchanged" in out
    data = read_keywords_exiftool(album / "dog.jpg.xmp")
    assert sorted(data["subject"]) == ["animal", "dog", "rex"]  # no mere suggestion, nothing rejected
    assert sorted(data["hierarchical"]) == ["animal", "animal|pet|dog", "rex"]
    # kite.jpg came from Flickr with IPTC/XMP keywords, imported as user tags when it was first tagged.
    assert read_keywords_exiftool(album / "kite.jpg.xmp")["subject"] == ["beach", "mi", "south haven", "vacation"]
    assert not (album / "horses.jpg.xmp").exists()  # nothing accepted there: no file is created

    # The user changes their mind; the sidecar follows, and a query limits what is written.
    library.decide("remove", "rex", [dog])
    library.decide("reject", "animal", [dog])
    code, out, _ = cli("xmp", "write", "--query", "dog")
    assert code == 0 and "1 sidecar written" in out
    data = read_keywords_exiftool(album / "dog.jpg.xmp")
    assert data["subject"] == ["dog"]
    assert data["hierarchical"] == ["pet|dog"]  # "animal" is rejected on this photo: the path stops below it


def test_write_failures_are_reported(library: Library, album: Path, cli) -> None:
    library.add_folder(album)
    for name in ("dog.jpg", "kite.jpg"):
        library.decide("add", "mine", [album / name])
    (album / "kite.jpg.xmp").write_text("<x:xmpmeta broken", encoding="utf-8")
    album.chmod(0o555)
    try:
        report = write_sidecars(library.store, library.store.photo_ids(), library.settings)
        code, out, err = cli("xmp", "write")
    finally:
        album.chmod(0o755)
    assert not report.ok and {Path(p).name for p, _ in report.failed} == {"dog.jpg.xmp", "kite.jpg.xmp"}
    assert code == 1 and "0 sidecars written" in out and "2 failed" in out
    assert f"{album / 'dog.jpg.xmp'}: cannot write: folder {album} is read-only" in err
    assert f"{album / 'kite.jpg.xmp'}: not an XMP sidecar" in err
    assert not (album / "dog.jpg.xmp").exists()


def test_auto_write_on_each_decision(library_settings, album: Path, read_keywords_exiftool) -> None:
    settings = replace(library_settings, xmp_auto_write=True, xmp_sidecar="replace")
    with Library.open(settings) as library:
        library.add_folder(album)
        library.decide("add", "Summer 2021", [album / "dog.jpg", album / "horses.jpg"])
        assert library.last_xmp_report.ok and len(library.last_xmp_report.written) == 2
        assert read_keywords_exiftool(album / "horses.xmp")["subject"] == ["summer 2021"]
        library.decide("remove", "summer 2021", [album / "horses.jpg"])
        assert read_keywords_exiftool(album / "horses.xmp")["subject"] == []
        assert not (album / "dog.jpg.xmp").exists()  # the setting says photo.xmp
    with Library.open(library_settings) as library:  # the default: decisions do not touch the files
        library.decide("add", "elsewhere", [album / "kite.jpg"])
        assert library.last_xmp_report is None and not (album / "kite.jpg.xmp").exists()


def test_keywords_from_other_tools_become_user_tags(library: Library, album: Path, tag_all, exiftool, cli) -> None:
    # A JPEG with IPTC and embedded XMP keywords, and a photo with a sidecar, both written by exiftool.
    exiftool("-overwrite_original", "-charset", "iptc=UTF8", "-IPTC:Keywords=Beach", "-IPTC:Keywords=Grand-mère",
             "-XMP-dc:Subject=holiday", "-XMP-lr:HierarchicalSubject=Places|Paris", album / "dog.jpg")
    exiftool("-XMP-dc:Subject=farm", "-XMP-lr:HierarchicalSubject=Events|Riding lesson", album / "horses.jpg.xmp")
    library.add_folder(album)
    tag_all(library)

    def user_tags(name: str) -> dict[str, TagState]:
        _, tags = library.tags_of(album / name)
        return {t.name: t.state for t in tags if t.source == TagSource.USER}

    assert user_tags("dog.jpg") == dict.fromkeys(["holiday", "paris", "beach", "grand-mère"], TagState.ACCEPTED)
    assert user_tags("horses.jpg") == dict.fromkeys(["farm", "riding lesson"], TagState.ACCEPTED)
    # kite.jpg is a real Flickr photo that carries its keywords (IPTC and XMP) already.
    assert user_tags("kite.jpg") == dict.fromkeys(["beach", "mi", "south haven", "vacation"], TagState.ACCEPTED)
    assert library.search("grand-mère").total == 1 and library.search("beach source:user").total == 2

    # On demand: new keywords come in; a keyword the user rejected does not come back.
    library.decide("reject", "beach", [album / "dog.jpg"])
    exiftool("-overwrite_original", "-XMP-dc:Subject+=lake", album / "dog.jpg")
    code, out, err = cli("xmp", "import")
    assert code == 0, err
    assert "1 keyword imported as user tags on 1 photo" in out
    assert user_tags("dog.jpg")["lake"] == TagState.ACCEPTED
    assert user_tags("dog.jpg")["beach"] == TagState.REJECTED
    assert import_keywords(library.store, library.store.photo_ids(), library.settings).added == {}
