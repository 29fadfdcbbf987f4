"""A worker process killed with SIGKILL mid-run resumes with nothing lost and nothing done twice."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest


def _env(settings, library_path):
    env = dict(os.environ)
    env.update({
        "PHOTO_TAGGER_LIBRARY": str(library_path), "PHOTO_TAGGER_CACHE_DIR": str(settings.cache_dir),
        "PHOTO_TAGGER_DATA_DIR": str(settings.data_dir), "PHOTO_TAGGER_MODELS_DIR": str(settings.models_dir),
        "PHOTO_TAGGER_OFFLINE": "1",
    })
    return env


def _count(db, sql, *params):
    connection = sqlite3.connect(db, timeout=30)
    try:
        return connection.execute(sql, params).fetchone()[0]
    finally:
        connection.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(settings, photos, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    sources = sorted(p for p in photos.iterdir() if p.suffix == ".jpg")
    for i in range(60):  # distinct files (a trailing byte run changes the hash, JPEG decoders ignore it)
        data = sources[i % len(sources)].read_bytes() + bytes([i]) * (i + 1)
        (folder / f"photo_{i:03d}.jpg").write_bytes(data)
    db = tmp_path / "library.sqlite"
    env = _env(settings, db)
    cli = [sys.executable, "-m", "photo_tagger"]
    subprocess.run([*cli, "add", str(folder)], env=env, check=True, capture_output=True, timeout=120)

    worker = subprocess.Popen([*cli, "scan", "--wait"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    done = 0
    while time.monotonic() < deadline and worker.poll() is None:
        done = _count(db, "SELECT count(*) FROM jobs WHERE state = 'done'")
        if done >= 8:
            break
        time.sleep(0.05)
    assert worker.poll() is None, f"the worker finished before it could be killed: {worker.stderr.read()}"
    # A user decision made while the worker runs, from another process: it must survive the kill.
    decided = _count(db, "SELECT photo_id FROM jobs WHERE state = 'done' ORDER BY id LIMIT 1")
    decided_path = _count(db, "SELECT path FROM photos WHERE id = ?", decided)
    subprocess.run([*cli, "tag-add", decided_path, "survives the kill"], env=env, check=True, timeout=120,
                   capture_output=True)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    assert _count(db, "PRAGMA integrity_check") == "ok"
    interrupted = _count(db, "SELECT count(*) FROM jobs WHERE state = 'running'")
    tagged_before = _count(db, "SELECT count(*) FROM photos WHERE status = 'tagged'")
    assert 8 <= tagged_before < 60

    resumed = subprocess.run([*cli, "scan", "--wait"], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert _count(db, "PRAGMA integrity_check") == "ok"
    assert _count(db, "SELECT count(*) FROM photos WHERE status = 'tagged'") == 60
    # Every photo's tag job was completed exactly once; the interrupted ones were run again, not lost.
    assert _count(db, "SELECT count(*) FROM jobs WHERE kind = 'tag' AND state = 'done'") == 60
    assert _count(db, "SELECT count(*) FROM (SELECT photo_id FROM jobs WHERE state = 'done' "
                      "GROUP BY photo_id HAVING count(*) > 1)") == 0
    assert _count(db, "SELECT count(*) FROM jobs WHERE state IN ('running', 'queued', 'failed')") == 0
    assert interrupted >= 1  # the kill really cut jobs off mid-way; they were requeued and done once
    # No duplicate tag rows, and the user's tag is still there.
    assert _count(db, "SELECT count(*) FROM (SELECT photo_id, tag_id FROM photo_tags "
                      "GROUP BY photo_id, tag_id HAVING count(*) > 1)") == 0
    assert _count(db, "SELECT count(*) FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id "
                      "WHERE t.name = 'survives the kill' AND pt.photo_id = ?", decided) == 1
    shutil.rmtree(folder)
