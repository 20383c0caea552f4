"""Schedules: jobs that come back daily at a time (UTC) or every so many minutes.

Every worker asks, between jobs, whether a schedule is due (``fire_due``).  The schedule's row is
locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) while its job is
queued and its ``next_run`` moved on, in one transaction: however many workers ask at once, one
queues the job and the others find it no longer due.  A schedule missed while no worker ran fires
once, not once for each missed time; a schedule whose last job is still queued or running waits
for the next time rather than piling up jobs (a harvest that takes longer than a day).

``DEFAULTS`` are there from the start (the embargo release, daily): the first ``fire_due`` of a
catalogue adds the ones it lacks.  Switched off, a schedule stays, off, so a default is not added back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakSet

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from repository.catalogue.models import Job, Schedule
from repository.db import Database
from repository.jobs.queue import JobError, new_job, utcnow

_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class When:
    """Daily at ``daily_at`` (HH:MM, UTC) or every ``every_minutes``."""

    daily_at: str | None = None
    every_minutes: int | None = None

    def __post_init__(self) -> None:
        if (self.daily_at is None) == (self.every_minutes is None):
            raise JobError("a schedule is either daily at HH:MM or every N minutes")
        if self.daily_at is not None and not _DAILY.match(self.daily_at):
            raise JobError(f"daily at {self.daily_at!r}: give the time as HH:MM (UTC), e.g. 02:00")
        if self.every_minutes is not None and self.every_minutes < 1:
            raise JobError("every N minutes: N must be at least 1")

    def next_after(self, now: datetime) -> datetime:
        """The first time after ``now`` this comes round."""
        if self.every_minutes is not None:
            return now + timedelta(minutes=self.every_minutes)
        hour, minute = (int(part) for part in self.daily_at.split(":"))
        at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at if at > now else at + timedelta(days=1)

    def __str__(self) -> str:
        return f"daily at {self.daily_at} UTC" if self.daily_at else f"every {self.every_minutes} minutes"


#: name -> (kind, arguments, when): schedules every catalogue has until they are changed or switched off
DEFAULTS: dict[str, tuple[str, dict[str, Any], When]] = {
    "release-embargoes": ("release-embargoes", {}, When("00:05")),  # files open on their day
}


def put(db: Database, name: str, kind: str, arguments: dict[str, Any], when: When) -> datetime:
    """Create or change schedule ``name``; when it first comes due."""
    now = utcnow()
    with db.transaction() as session:
        row = session.scalar(select(Schedule).where(Schedule.name == name))
        if row is None:
            row = Schedule(name=name)
            session.add(row)
        _set(row, kind, arguments, when, now)
        return row.next_run


def _set(row: Schedule, kind: str, arguments: dict[str, Any], when: When, now: datetime) -> None:
    row.kind, row.arguments, row.enabled = kind, json.dumps(arguments, ensure_ascii=False), True
    row.daily_at, row.every_minutes, row.next_run = when.daily_at, when.every_minutes, when.next_after(now)


def switch_off(db: Database, name: str) -> bool:
    """Switch schedule ``name`` off (it is kept, off); False when there was none on."""
    _add_defaults(db)
    with db.transaction() as session:
        stmt = update(Schedule).where(Schedule.name == name, Schedule.enabled.is_(True)).values(enabled=False)
        return bool(session.execute(stmt).rowcount)


def listed(db: Database) -> list[Schedule]:
    """Every schedule, by name."""
    _add_defaults(db)
    with db.reading() as session:
        return list(session.scalars(select(Schedule).order_by(Schedule.name)))


_DEFAULTS_PRESENT: WeakSet[Database] = WeakSet()  # databases whose defaults were seen: rows are never deleted


def _add_defaults(db: Database) -> None:
    """Add the default schedules a catalogue lacks (once each: a row, on or off, stays)."""
    if db in _DEFAULTS_PRESENT:
        return
    with db.reading() as session:
        present = set(session.scalars(select(Schedule.name).where(Schedule.name.in_(DEFAULTS))))
    missing = [name for name in DEFAULTS if name not in present]
    if not missing:
        _DEFAULTS_PRESENT.add(db)
        return
    now = utcnow()
    try:
        with db.transaction() as session:
            for name in missing:
                row = Schedule(name=name)
                _set(row, *DEFAULTS[name], now)
                session.add(row)
    except IntegrityError:
        pass  # another worker added them at the same moment: they are there
    _DEFAULTS_PRESENT.add(db)


def fire_due(db: Database, requested_by: str = "schedule") -> list[int]:
    """Queue the job of every schedule that is due and move it on; the ids of the jobs queued."""
    _add_defaults(db)
    now = utcnow()
    is_due = (Schedule.enabled.is_(True), Schedule.next_run <= now)
    with db.reading() as session:  # asked between every two jobs: take the write lock only when there is work
        if session.scalar(select(Schedule.id).where(*is_due).limit(1)) is None:
            return []
    fired = []
    with db.transaction() as session:
        due = session.scalars(
            select(Schedule).where(*is_due).order_by(Schedule.id).with_for_update(skip_locked=True)
        ).all()
        for row in due:
            row.next_run = When(row.daily_at, row.every_minutes).next_after(now)
            busy = row.last_job is not None and session.scalar(
                select(Job.id).where(Job.id == row.last_job, Job.state.in_(("queued", "running")))
            )
            if busy:
                continue  # the last one has not finished: this time is skipped, not stacked
            job = new_job(row.kind, json.loads(row.arguments), f"{requested_by}:{row.name}", now)
            session.add(job)
            session.flush()
            row.last_job = job.id
            fired.append(job.id)
    return fired
