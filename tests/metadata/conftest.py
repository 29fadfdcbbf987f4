"""Fixtures for the metadata tests: exiftool as the independent reader/writer, and a small real library."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ALBUM = ["dog.jpg", "horses.jpg", "kite.jpg"]


@pytest.fixture(scope="session")
def exiftool():
    """Run exiftool (Debian libimage-exiftool-perl; `bash packaging/install.sh --test` installs it)."""
    program = shutil.which("exiftool")
    if program is None:
        pytest.fail("exiftool is missing: install libimage-exiftool-perl (bash packaging/install.sh --test)")

    def run(*args: str | Path) -> str:
        done = subprocess.run([program, *map(str, args)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="session")
def read_keywords_exiftool(exiftool):
    """exiftool's view of a file's XMP keywords: {"subject": [...], "hierarchical": [...], ...all tags}."""

    def read(path: Path) -> dict:
        # -G1: keys carry their group ("XMP-dc:Subject"); XMP-lr is exiftool's group for the Lightroom namespace.
        data = json.loads(exiftool("-j", "-a", "-G1", "-XMP:all", "-IPTC:all", path))[0]
        as_list = lambda value: value if isinstance(value, list) else [] if value is None else [value]  # noqa: E731
        return {**data, "subject": [str(v) for v in as_list(data.get("XMP-dc:Subject"))],
                "hierarchical": [str(v) for v in as_list(data.get("XMP-lr:HierarchicalSubject"))]}

    return read


@pytest.fixture()
def album(tmp_path: Path, photos: Path) -> Path:
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ALBUM:
        shutil.copy(photos / name, folder / name)
    return folder
