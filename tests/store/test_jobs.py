"""The persistent job queue: claiming is atomic across threads and processes; crashes are recovered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from photo_tagger.store import JobState, Store

from .conftest import add_photos

REPO = Path(__file__).resolve().parents[2]


def test_enqueue_dedupes_queued_jobs_per_kind(store: Store) -> None:
    ids = add_photos(store, "/p", "a.jpg", "b.jpg")
    assert store.enqueue("tag", ids) == 2
    assert store.enqueue("tag", ids) == 0
    assert store.enqueue("thumbnail", ids[0]) == 1
    assert store.enqueue("tag", ids, dedupe=False) == 2
    assert store.enqueue("retag", payload={"model": "head@2"}) == 1
    assert store.job_counts() == {"tag": {JobState.QUEUED: 4}, "thumbnail": {JobState.QUEUED: 1},
                                  "retag": {JobState.QUEUED: 1}}  # fmt: skip


def test_claim_takes_the_highest_priority_then_the_oldest(store: Store) -> None:
    ids = add_photos(store, "/p", *(f"{i}.jpg" for i in range(4)))
    store.enqueue("tag", ids)
    store.enqueue("thumbnail", ids[3], priority=10)
    claimed = store.claim_jobs(3)
    assert [(job.kind, job.photo_id) for job in claimed] == [("thumbnail", ids[3]), ("tag", ids[0]), ("tag", ids[1])]
    assert all(job.state == JobState.RUNNING and job.attempts == 1 for job in claimed)
    assert [job.photo_id for job in store.claim_jobs(10, kinds=["tag"])] == [ids[2], ids[3]]
    assert store.claim_jobs(10) == []
    assert store.claim_jobs(0) == []


def test_a_running_job_does_not_block_a_new_one_for_the_same_photo(store: Store) -> None:
    (photo,) = add_photos(store, "/p", "a.jpg")
    store.enqueue("tag", photo)
    store.claim_jobs(1)
    assert store.enqueue("tag", photo) == 1  # the file may have changed after the worker read it


def test_complete_and_fail_with_retries(store: Store) -> None:
    (photo,) = add_photos(store, "/p", "a.jpg")
    store.enqueue("tag", photo)
    (job,) = store.claim_jobs(1)
    assert store.fail_job(job.id, "decoder crashed", max_attempts=2) == JobState.QUEUED
    (job,) = store.claim_jobs(1)
    assert job.attempts == 2 and job.last_error == "decoder crashed"
    assert store.fail_job(job.id, "decoder crashed again", max_attempts=2) == JobState.FAILED
    assert store.claim_jobs(1) == []
    store.enqueue("thumbnail", photo)
    (job,) = store.claim_jobs(1)
    assert store.fail_job(job.id, "file is not an image", retry=False) == JobState.FAILED
    store.enqueue("tag", photo)
    (job,) = store.claim_jobs(1)
    store.complete_job(job.id)
    assert store.job_counts() == {"tag": {JobState.FAILED: 1, JobState.DONE: 1}, "thumbnail": {JobState.FAILED: 1}}
    assert store.purge_jobs() == 1
    assert store.purge_jobs([JobState.FAILED], older_than=timedelta(hours=1)) == 0


def test_requeue_stale_running_after_a_crash(store: Store) -> None:
    ids = add_photos(store, "/p", "a.jpg", "b.jpg", "c.jpg")
    store.enqueue("tag", ids)
    first = store.claim_jobs(3)
    assert store.requeue_stale_running(older_than=timedelta(hours=1)) == 0  # still fresh: a live worker's
    with store.transaction() as session:  # one job has already crashed the app twice
        session.execute(sa.text("UPDATE jobs SET attempts = 3 WHERE id = :id"), {"id": first[2].id})
    assert store.requeue_stale_running() == 3
    counts = store.job_counts()["tag"]
    assert counts == {JobState.QUEUED: 2, JobState.FAILED: 1}
    again = store.claim_jobs(3)
    assert [job.id for job in again] == [first[0].id, first[1].id]
    assert all(job.attempts == 2 for job in again)
    with store.read() as session:
        error = session.execute(sa.text("SELECT last_error FROM jobs WHERE id = :id"), {"id": first[2].id}).scalar()
    assert "interrupted" in error


def test_threads_claiming_at_once_get_disjoint_jobs(store: Store) -> None:
    ids = add_photos(store, "/p", *(f"{i}.jpg" for i in range(300)))
    store.enqueue("tag", ids)
    claimed: list[list[int]] = [[] for _ in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(index: int) -> None:
        try:
            start.wait()
            while jobs := store.claim_jobs(4):
                claimed[index].extend(job.id for job in jobs)
        except BaseException as error:  # reported below; a thread's exception would vanish otherwise
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    every = [job for jobs in claimed for job in jobs]
    assert len(every) == len(set(every)) == 300
    assert sum(1 for jobs in claimed if jobs) > 1  # they did run side by side


CLAIMER = """
import json, sys, time
from photo_tagger.store import Store
store = Store.open(sys.argv[1])
claimed = []
while jobs := store.claim_jobs(3):
    claimed.extend(job.id for job in jobs)
    time.sleep(0.002)  # let the other process in
print(json.dumps(claimed))
"""


def test_processes_claiming_at_once_get_disjoint_jobs(store: Store, db_path: Path) -> None:
    ids = add_photos(store, "/p", *(f"{i}.jpg" for i in range(200)))
    store.enqueue("tag", ids)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [
        subprocess.Popen([sys.executable, "-c", CLAIMER, str(db_path)], stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    claimed = [json.loads(output) for output in outputs]
    assert not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == sorted(job for job in range(1, 201))
    assert store.job_counts() == {"tag": {JobState.RUNNING: 200}}
