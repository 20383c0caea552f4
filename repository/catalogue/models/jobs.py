"""Background jobs: long work (imports, OCR, reindexing, harvests) taken off the request path."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


class Job(Base):
    """One piece of background work, claimed by one worker at a time for as long as its lease lasts.

    ``state``: queued, running, done, failed or cancelled.  A running job whose lease ran out (its
    worker died) is claimed again, up to ``max_attempts``; every kind is safe to repeat.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(DateTime)  # not before: a retry waits a while
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime)
    worker: Mapped[str] = mapped_column(String(128), default="")  # host:pid of the worker holding it
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    checkpoint: Mapped[str | None] = mapped_column(Text)  # JSON: where the job stands, for its next step
    error: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(DateTime)
    started: Mapped[datetime | None] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after", "id"),)


class Schedule(Base):
    """Work that comes back: a job of ``kind`` queued daily at ``daily_at`` (UTC) or every ``every_minutes``.

    ``name`` says what it is for (``harvest:<source>``, ``release-embargoes``); ``next_run`` is when
    it is due.  Whoever queues its job moves ``next_run`` on in the same transaction, so two
    workers never queue it twice.
    """

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    daily_at: Mapped[str | None] = mapped_column(String(5))  # HH:MM, UTC
    every_minutes: Mapped[int | None] = mapped_column(Integer)
    next_run: Mapped[datetime] = mapped_column(DateTime)
    last_job: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)  # off: kept, so a default stays off
