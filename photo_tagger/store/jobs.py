"""The persistent job queue: work that must survive a crash or a quit lives in the database, not in memory.

Life of a job: ``queued`` -> (:func:`claim_jobs`) ``running`` -> ``done``, or back to ``queued`` by
:func:`fail_job` while attempts remain, else ``failed``. A process that dies leaves its jobs ``running``;
:func:`requeue_stale_running` at the next start puts them back (or fails them once they have crashed the
worker ``max_attempts`` times, so one poisonous photo cannot crash the app forever).

Claiming must run in a write transaction (``Store.transaction()``): on SQLite that transaction starts with
``BEGIN IMMEDIATE``, so two processes claiming at once are serialised by the write lock and get disjoint jobs.
On a server database the ``FOR UPDATE SKIP LOCKED`` does the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .decisions import chunks
from .engine import NotFoundError
from .records import JobInfo
from .schema import Job, JobState, utcnow

DEFAULT_MAX_ATTEMPTS = 3


def _info(job: Job) -> JobInfo:
    return JobInfo(
        job.id, job.kind, job.photo_id, job.payload, job.state, job.priority, job.attempts, job.last_error,
        job.created_at, job.updated_at,
    )  # fmt: skip


def enqueue(
    session: Session,
    kind: str,
    photo_ids: Iterable[int] | None = None,
    *,
    payload: dict[str, Any] | None = None,
    priority: int = 0,
    dedupe: bool = True,
) -> int:
    """Queue one job per photo (or, without photos, one job carrying ``payload``); returns the count queued.

    With ``dedupe`` a photo that already has a *queued* job of this kind gets no second one. A running job
    does not count: the file may have changed after the worker read it.
    """
    now = utcnow()
    if photo_ids is None:
        session.execute(
            sa.insert(Job),
            [{"kind": kind, "payload": payload, "priority": priority, "state": JobState.QUEUED,
              "created_at": now, "updated_at": now}],
        )  # fmt: skip
        return 1
    ids = list(dict.fromkeys(photo_ids))
    if dedupe:
        queued: set[int] = set()
        for part in chunks(ids):
            queued.update(
                session.execute(
                    sa.select(Job.photo_id).where(
                        Job.photo_id.in_(part), Job.kind == kind, Job.state == JobState.QUEUED
                    )
                ).scalars()
            )
        ids = [photo_id for photo_id in ids if photo_id not in queued]
    if ids:
        session.execute(
            sa.insert(Job),
            [{"kind": kind, "photo_id": photo_id, "payload": payload, "priority": priority,
              "state": JobState.QUEUED, "created_at": now, "updated_at": now} for photo_id in ids],
        )  # fmt: skip
    return len(ids)


def claim_jobs(session: Session, n: int, kinds: Iterable[str] | None = None) -> list[JobInfo]:
    """Move up to ``n`` queued jobs to ``running`` (highest priority, then oldest first) and return them."""
    if n <= 0:
        return []
    pick = (
        sa.select(Job.id)
        .where(Job.state == JobState.QUEUED)
        .order_by(Job.priority.desc(), Job.id)
        .limit(n)
        .with_for_update(skip_locked=True)
    )
    if kinds is not None:
        pick = pick.where(Job.kind.in_(list(kinds)))
    ids = list(session.execute(pick).scalars())
    if not ids:
        return []
    session.execute(
        sa.update(Job)
        .where(Job.id.in_(ids), Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, attempts=Job.attempts + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    claimed = sa.select(Job).where(Job.id.in_(ids)).order_by(Job.priority.desc(), Job.id)
    # populate_existing: a session that loaded these jobs before must not hand back their old state
    jobs = session.execute(claimed.execution_options(populate_existing=True)).scalars()
    return [_info(job) for job in jobs]


def _job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"There is no job with id {job_id}.")
    return job


def complete_job(session: Session, job_id: int) -> None:
    job = _job(session, job_id)
    job.state, job.last_error, job.updated_at = JobState.DONE, None, utcnow()


def fail_job(
    session: Session, job_id: int, error: str, *, retry: bool = True, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> JobState:
    """Record ``error``; queue the job again while attempts are left (and ``retry``), else mark it failed."""
    job = _job(session, job_id)
    job.state = JobState.QUEUED if retry and job.attempts < max_attempts else JobState.FAILED
    job.last_error, job.updated_at = error, utcnow()
    return job.state


def requeue_stale_running(
    session: Session, *, older_than: timedelta | None = None, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> int:
    """Crash recovery: running jobs (untouched for ``older_than``, if given) go back to the queue.

    Call at start-up, before the worker claims anything: whatever is still ``running`` then was abandoned by a
    process that quit or crashed. Jobs that already used ``max_attempts`` are marked failed instead. Returns
    the number of jobs moved (requeued or failed).
    """
    now = utcnow()
    stale = [Job.state == JobState.RUNNING]
    if older_than is not None:
        stale.append(Job.updated_at < now - older_than)
    failed = session.execute(
        sa.update(Job)
        .where(*stale, Job.attempts >= max_attempts)
        .values(
            state=JobState.FAILED,
            updated_at=now,
            last_error=sa.func.coalesce(Job.last_error + "; ", "")
            + "interrupted while running (the app quit or crashed) too many times",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    requeued = session.execute(
        sa.update(Job)
        .where(*stale)
        .values(state=JobState.QUEUED, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return failed + requeued


def job_counts(session: Session) -> dict[str, dict[JobState, int]]:
    """``{kind: {state: count}}`` for a status bar."""
    counts: dict[str, dict[JobState, int]] = {}
    for kind, state, count in session.execute(
        sa.select(Job.kind, Job.state, sa.func.count()).group_by(Job.kind, Job.state)
    ):
        counts.setdefault(kind, {})[state] = count
    return counts


def purge_jobs(
    session: Session, states: Iterable[JobState] = (JobState.DONE,), older_than: timedelta | None = None
) -> int:
    """Delete finished jobs (by default the done ones), optionally only those untouched for ``older_than``."""
    where = [Job.state.in_(list(states))]
    if older_than is not None:
        where.append(Job.updated_at < utcnow() - older_than)
    return session.execute(sa.delete(Job).where(*where)).rowcount
