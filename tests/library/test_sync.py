"""The watcher wired to a real library: files copied, moved and deleted under a watched folder become jobs and tags."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from photo_tagger.store import PhotoStatus, TagState
from photo_tagger.sync import watch_library


def wait_for(condition, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def test_watched_changes_reach_the_library(library, album, tag_all, photos):
    library.add_folder(album)
    tag_all(library)
    library.decide("accept", "dog", [album / "dog.jpg"])
    (album / "gone.jpg").write_bytes((photos / "eagle.jpg").read_bytes())  # made while the app was "closed"
    applied = []
    watcher = watch_library(library, on_applied=applied.append, debounce=0.2, poll_interval=0.05)
    try:
        # the reconciliation scan at start finds the file created while nobody watched
        assert wait_for(lambda: library.store.photo_by_path(str(album / "gone.jpg")) is not None)
        shutil.copy(photos / "person.jpg", album / "new.jpg")
        (album / "dog.jpg").rename(album / "trip" / "renamed-dog.jpg")
        (album / "kite.jpg").unlink()
        assert wait_for(lambda: library.store.photo_by_path(str(album / "new.jpg")) is not None)
        assert wait_for(lambda: library.store.photo_by_path(str(album / "trip" / "renamed-dog.jpg")) is not None)
        assert wait_for(lambda: library.photo(album / "kite.jpg").status == PhotoStatus.MISSING)
    finally:
        watcher.stop()
    moved = {t.name: t for t in library.tags_of(album / "trip" / "renamed-dog.jpg")[1]}
    assert moved["dog"].state == TagState.ACCEPTED  # the move kept the decision
    tag_all(library)
    assert "person" in {t.name for t in library.tags_of(album / "new.jpg")[1]}
    assert library.status().photos[PhotoStatus.TAGGED] == 7  # 6 - kite - old dog path + renamed + new + gone


@pytest.mark.slow
def test_watch_command_tags_a_copied_photo_and_stops_on_ctrl_c(settings, photos, tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    shutil.copy(photos / "horses.jpg", folder / "horses.jpg")
    env = dict(os.environ)
    env.update({
        "PHOTO_TAGGER_LIBRARY": str(tmp_path / "library.sqlite"), "PHOTO_TAGGER_CACHE_DIR": str(tmp_path / "cache"),
        "PHOTO_TAGGER_DATA_DIR": str(tmp_path / "data"), "PHOTO_TAGGER_MODELS_DIR": str(settings.models_dir),
        "PHOTO_TAGGER_OFFLINE": "1",
    })
    cli = [sys.executable, "-m", "photo_tagger"]
    subprocess.run([*cli, "add", str(folder)], env=env, check=True, capture_output=True, timeout=120)
    watch = subprocess.Popen([*cli, "watch", "--debounce", "0.3"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(watch.stdout), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: any("tagged" in line and "horses.jpg" in line for line in lines), timeout=120), lines
        shutil.copy(photos / "giraffe.jpg", folder / "giraffe.jpg")
        assert wait_for(lambda: any("tagged" in line and "giraffe.jpg" in line for line in lines), timeout=60), lines
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=60)
    reader.join(timeout=5)
    assert watch.returncode == 0, watch.stderr.read()
    assert lines[-1].strip() == "stopped"
    shown = subprocess.run([*cli, "search", "giraffe"], env=env, capture_output=True, text=True, timeout=120)
    assert str(folder / "giraffe.jpg") in shown.stdout
