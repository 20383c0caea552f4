"""The job table as a queue: enqueue, claim with a lease, renew it, report progress, finish.

A claim is atomic: on PostgreSQL the row is locked with ``FOR UPDATE SKIP LOCKED``, so two workers
never take the same job and neither waits for the other; on SQLite the write transaction begins
with ``BEGIN IMMEDIATE`` (``repository.db``), so claims happen one after another.  A worker renews
its lease while the job runs; a job whose lease ran out (its worker died or hung) is claimed again
by the next worker that asks, up to ``max_attempts``.  Writes about a job name the worker holding
it, so a worker that lost its lease cannot overwrite the one that took the job over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Update, and_, func, or_, select, update

from repository.catalogue.models import Job
from repository.db import Database
from repository.errors import KutubxonaError, NotFound

STATES = ("queued", "running", "done", "failed", "cancelled")
FINAL = ("done", "failed", "cancelled")
RETRY_SECONDS = 30  # a failed attempt waits this long, doubled after each, before it is tried again


def utcnow() -> datetime:
    """Now, in UTC, naive, to the microsecond: a lease of a second must not lapse a second late."""
    return datetime.now(UTC).replace(tzinfo=None)


class JobError(KutubxonaError, ValueError):
    """A job that cannot be made or changed as asked."""


@dataclass(frozen=True)
class Claimed:
    """A job a worker has claimed: what to run, and which attempt this is."""

    id: int
    kind: str
    arguments: dict[str, Any]
    attempt: int
    checkpoint: dict[str, Any]  # where an earlier step or attempt left it; {} at first


def new_job(kind: str, arguments: dict[str, Any], requested_by: str, now: datetime, max_attempts: int = 3) -> Job:
    """A job row, queued and due at once, for a session to add (the model's defaults fill in the rest)."""
    return Job(kind=kind, arguments=json.dumps(arguments, ensure_ascii=False), run_after=now, created=now,
               requested_by=requested_by[:64], max_attempts=max_attempts)  # fmt: skip


def enqueue(db: Database, kind: str, arguments: dict[str, Any], requested_by: str, max_attempts: int = 3) -> int:
    """Queue a job; its id."""
    with db.transaction() as session:
        job = new_job(kind, arguments, requested_by, utcnow(), max_attempts)
        session.add(job)
        session.flush()
        return job.id


def claim(
    db: Database, worker: str, lease_seconds: int, kinds: tuple[str, ...] = (), only: int | None = None
) -> Claimed | None:
    """Take the oldest job that is due (queued, or running with a lapsed lease), or job ``only``; or None."""
    now = utcnow()
    due = or_(
        and_(Job.state == "queued", Job.run_after <= now),
        and_(Job.state == "running", Job.lease_until < now),  # its worker died: take it over
    )
    with db.transaction() as session:
        while True:
            stmt = select(Job).where(due, *([Job.kind.in_(kinds)] if kinds else []),
                                     *([Job.id == only] if only is not None else []))  # fmt: skip
            job = session.scalar(stmt.order_by(Job.id).limit(1).with_for_update(skip_locked=True))
            if job is None:
                return None
            if job.state == "running" and job.attempts >= job.max_attempts:
                job.state, job.finished, job.lease_until = "failed", now, None
                job.error = f"its worker stopped answering {job.attempts} times (lease lapsed); not tried again"
                session.flush()
                continue
            job.state, job.worker, job.attempts = "running", worker[:128], job.attempts + 1
            job.lease_until, job.heartbeat = now + timedelta(seconds=lease_seconds), now
            job.started = job.started or now
            checkpoint = json.loads(job.checkpoint or "{}")
            return Claimed(job.id, job.kind, json.loads(job.arguments), job.attempts, checkpoint)


def renew(db: Database, job_id: int, worker: str, lease_seconds: int) -> tuple[bool, bool]:
    """Extend the lease: (still held by ``worker``, cancel asked for)."""
    now = utcnow()
    with db.transaction() as session:
        held = session.execute(
            _held(job_id, worker).values(heartbeat=now, lease_until=now + timedelta(seconds=lease_seconds))
        ).rowcount
        cancel = session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
    return bool(held), bool(cancel)


def progress(db: Database, job_id: int, worker: str, done: int, total: int | None) -> None:
    """Note how far the job has come."""
    with db.transaction() as session:
        session.execute(_held(job_id, worker).values(progress_done=done, progress_total=total))


def save(db: Database, job_id: int, worker: str, checkpoint: dict[str, Any]) -> None:
    """Remember where the job stands, for its next step or a worker taking it over."""
    with db.transaction() as session:
        session.execute(_held(job_id, worker).values(checkpoint=json.dumps(checkpoint, ensure_ascii=False)))


def hand_back(db: Database, job_id: int, worker: str) -> bool:
    """Queue a job that did a step, due at once, for any worker to go on with; False when ``worker`` lost it.

    A step handed back is not a failed attempt: ``attempts`` counts the claims that did not end well.
    """
    with db.transaction() as session:
        return bool(session.execute(_held(job_id, worker).values(
            state="queued", run_after=utcnow(), lease_until=None, attempts=Job.attempts - 1)).rowcount)  # fmt: skip


def finish(db: Database, job_id: int, worker: str, result: dict[str, Any]) -> bool:
    """Mark the job done with its result; False when ``worker`` no longer held it."""
    return _end(db, job_id, worker, state="done", result=json.dumps(result, ensure_ascii=False, default=str))


def cancelled(db: Database, job_id: int, worker: str) -> bool:
    """Mark the job cancelled, as asked, where it stopped."""
    return _end(db, job_id, worker, state="cancelled", error="cancelled while it ran")


def fail(db: Database, job_id: int, worker: str, message: str, retry: bool) -> str:
    """Record a failed attempt: queued again after a wait when ``retry`` and attempts remain, else failed."""
    now = utcnow()
    with db.transaction() as session:
        job = session.get(Job, job_id)
        if job is None or job.worker != worker or job.state != "running":
            return job.state if job is not None else "gone"
        job.error, job.lease_until = message[:2000], None
        if retry and job.attempts < job.max_attempts and not job.cancel_requested:
            job.state, job.run_after = "queued", now + timedelta(seconds=RETRY_SECONDS * 2 ** (job.attempts - 1))
        else:
            job.state, job.finished = "failed", now
        return job.state


def _end(db: Database, job_id: int, worker: str, **values: Any) -> bool:
    with db.transaction() as session:
        return bool(
            session.execute(_held(job_id, worker).values(finished=utcnow(), lease_until=None, **values)).rowcount
        )


def _held(job_id: int, worker: str) -> Update:
    """An update of job ``job_id`` that changes nothing unless ``worker`` still holds it, running."""
    return update(Job).where(Job.id == job_id, Job.worker == worker, Job.state == "running")


def cancel(db: Database, job_id: int) -> str:
    """Cancel a queued job at once, or ask a running one to stop at its next step; its state after."""
    with db.transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.state == "queued":
            job.state, job.finished = "cancelled", utcnow()
        elif job.state == "running":
            job.cancel_requested = True
        else:
            raise JobError(f"job {job_id} is {job.state} already")
        return "cancel asked" if job.state == "running" else job.state


def stale(db: Database, older_than_seconds: int) -> list[int]:
    """Jobs whose broker message may be lost: queued and due for longer than that, or running with a lapsed
    lease (their worker died, and a broker such as Redis gives its unacknowledged message back only much later)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    waiting = or_(
        and_(Job.state == "queued", Job.run_after <= cutoff), and_(Job.state == "running", Job.lease_until < now)
    )
    with db.reading() as session:
        return list(session.scalars(select(Job.id).where(waiting)))


def get(db: Database, job_id: int) -> Job:
    """One job; ``NotFound`` when there is none."""
    with db.reading() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job


def listed(db: Database, state: str | None = None, limit: int = 50) -> list[Job]:
    """The newest jobs (of one state), newest first."""
    with db.reading() as session:
        stmt = select(Job).order_by(Job.id.desc()).limit(limit)
        return list(session.scalars(stmt.where(Job.state == state) if state else stmt))


def counts(db: Database) -> dict[str, int]:
    """How many jobs are in each state."""
    with db.reading() as session:
        found = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    return {state: found.get(state, 0) for state in STATES}


def as_json(job: Job) -> dict[str, Any]:
    """A job as the command line and the API show it."""

    def stamp(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") + "Z" if value else None

    return {
        "id": job.id, "kind": job.kind, "arguments": json.loads(job.arguments), "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total}, "attempts": job.attempts,
        "max_attempts": job.max_attempts, "worker": job.worker or None, "requested_by": job.requested_by,
        "cancel_requested": job.cancel_requested, "created": stamp(job.created), "started": stamp(job.started),
        "finished": stamp(job.finished), "heartbeat": stamp(job.heartbeat), "lease_until": stamp(job.lease_until),
        "result": json.loads(job.result) if job.result else None, "error": job.error or None,
        "checkpoint": json.loads(job.checkpoint) if job.checkpoint else None,
    }  # fmt: skip
