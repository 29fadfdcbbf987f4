"""``retag`` and ``learn`` as a user types them, on a library tagged through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


@pytest.fixture()
def cli(tmp_path, settings, photos):
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("dog.jpg", "horses.jpg", "crowd.jpg", "kite.jpg"):
        shutil.copy(photos / name, folder / name)
    env = dict(os.environ)
    env.update({
        "PHOTO_TAGGER_LIBRARY": str(tmp_path / "library.sqlite"), "PHOTO_TAGGER_CACHE_DIR": str(tmp_path / "cache"),
        "PHOTO_TAGGER_DATA_DIR": str(tmp_path / "data"), "PHOTO_TAGGER_MODELS_DIR": str(settings.models_dir),
        "PHOTO_TAGGER_OFFLINE": "1",
    })

    def run(*args, rc=0, extra=None):
        done = subprocess.run([sys.executable, "-m", "photo_tagger", *args], env={**env, **(extra or {})},
                              capture_output=True, text=True, timeout=600)
        if rc is not None:
            assert done.returncode == rc, (done.stdout, done.stderr)
        return done

    run("add", str(folder))
    run("scan", "--wait")
    return folder, run


def test_retag_shows_the_diff_applies_it_and_then_has_nothing_left(cli, second_head) -> None:
    folder, run = cli
    unchanged = json.loads(run("retag", "--json").stdout)
    assert unchanged["up_to_date"] == 4 and unchanged["changed"] == 0 and unchanged["tags"] == []
    assert "nothing to change" in run("retag").stdout

    run("accept", str(folder / "dog.jpg"), "dog")
    v2 = {"PHOTO_TAGGER_HEAD": str(second_head)}
    dry = run("retag", extra=v2).stdout
    assert "dry run: nothing changed" in dry and "4 to re-score from stored features" in dry
    diff = json.loads(run("retag", "--json", extra=v2).stdout)
    assert diff["lost"] > 0 and not diff["applied"]
    lost = {t["tag"] for t in diff["tags"] if t["lost"]}
    assert lost and all(tag in dry for tag in lost)  # the table names every tag that changes

    applied = run("retag", "--apply", extra=v2).stdout
    assert "re-scored from stored features" in applied
    assert "nothing to change" in run("retag", extra=v2).stdout
    shown = json.loads(run("show", "--json", str(folder / "dog.jpg")).stdout)
    assert {"name": "dog", "state": "accepted"}.items() <= next(t for t in shown["tags"] if t["name"] == "dog").items()


def test_learn_with_too_few_examples_learns_nothing_and_says_why(cli) -> None:
    _, run = cli
    out = run("learn").stdout  # the photos' own keywords were imported as user tags: a few examples, not eight
    assert "nothing was learned; the library's head is unchanged" in out
    assert "8 are needed" in out
    assert "nothing to change" in run("retag").stdout
    assert "shipped head again" in run("learn", "--reset").stdout
