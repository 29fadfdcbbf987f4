"""The library commands as a user types them: add, scan --wait, search, show, decisions, status, remove."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def cli_library(tmp_path_factory, settings, photos):
    """One library tagged through the CLI, shared by the read-only tests of this module."""
    base = tmp_path_factory.mktemp("cli-library")
    folder = base / "album"
    folder.mkdir()
    for name in ("dog.jpg", "horses.jpg", "giraffe.jpg", "kite.jpg", "coral_pets.jpg"):
        shutil.copy(photos / name, folder / name)
    env = dict(os.environ)
    env.update({
        "PHOTO_TAGGER_LIBRARY": str(base / "library.sqlite"), "PHOTO_TAGGER_CACHE_DIR": str(base / "cache"),
        "PHOTO_TAGGER_DATA_DIR": str(base / "data"), "PHOTO_TAGGER_MODELS_DIR": str(settings.models_dir),
        "PHOTO_TAGGER_OFFLINE": "1",
    })

    def run(*args, rc=0):
        done = subprocess.run([sys.executable, "-m", "photo_tagger", *args], env=env, capture_output=True,
                              text=True, timeout=600)
        if rc is not None:
            assert done.returncode == rc, (done.stdout, done.stderr)
        return done

    added = run("add", str(folder))
    assert "5 new" in added.stdout and "5 queued" in added.stdout
    waited = run("scan", "--wait")
    assert "5 photos tagged, 0 failed" in waited.stdout
    return folder, run


def test_search_json(cli_library):
    folder, run = cli_library
    hits = json.loads(run("search", "--json", "giraffe", "zebra").stdout)
    assert [h["path"] for h in hits] == [str(folder / "giraffe.jpg")]
    assert hits[0]["score"] > 0 and "giraffe" in hits[0]["tags"]
    either = json.loads(run("search", "--json", "horse OR giraffe").stdout)
    assert {os.path.basename(h["path"]) for h in either} >= {"horses.jpg", "giraffe.jpg"}
    assert [h["score"] for h in either] == sorted((h["score"] for h in either), reverse=True)


def test_expanded_query_is_reported(cli_library):
    _, run = cli_library
    out = run("search", "~dog").stdout
    assert out.startswith("searching for: (dog OR ")


def test_show_json(cli_library):
    folder, run = cli_library
    shown = json.loads(run("show", "--json", str(folder / "dog.jpg")).stdout)
    assert shown["path"] == str(folder / "dog.jpg") and shown["status"] == "tagged"
    assert all(set(t) >= {"name", "score", "source", "state"} for t in shown["tags"])
    assert {"bicycle", "car"} <= {t["name"] for t in shown["tags"] if t["source"] == "detector"}


@pytest.mark.parametrize("query", ['"golden retriever', "dog OR OR cat", "date:2021-13", "source:bogus",
                                   "(((", "'; DROP TABLE photos; --", "-", "tag:", "NOT"])
def test_hostile_queries_give_a_clear_error_or_results(cli_library, query):
    _, run = cli_library
    done = run("search", query, rc=None)
    assert done.returncode in (0, 2), done.stderr
    assert "Traceback" not in done.stderr
    if done.returncode == 2:
        assert "error" in done.stderr and "^" in done.stderr


def test_decisions_then_status_and_remove(cli_library):
    folder, run = cli_library
    dog = str(folder / "dog.jpg")
    assert "1 photo changed" in run("accept", dog, "bicycle").stdout
    assert "1 photo changed" in run("reject", dog, "car").stdout
    assert "changed" in run("tag-add", "--query", "giraffe", "safari").stdout
    shown = {t["name"]: t for t in json.loads(run("show", "--json", dog).stdout)["tags"]}
    assert shown["bicycle"]["state"] == "accepted" and shown["car"]["state"] == "rejected"
    assert json.loads(run("search", "--json", "safari").stdout)[0]["path"] == str(folder / "giraffe.jpg")
    assert "1 photo changed" in run("untag", str(folder / "giraffe.jpg"), "safari").stdout
    assert json.loads(run("search", "--json", "safari").stdout) == []
    assert "not in the library" in run("accept", "/nowhere/x.jpg", "dog", rc=2).stderr
    status = run("status").stdout
    assert "5 tagged" in status and str(folder) in status
    assert "5 photos forgotten" in run("remove", str(folder)).stdout
    assert "0 tagged" in run("status").stdout
