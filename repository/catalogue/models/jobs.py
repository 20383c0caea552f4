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
    error: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(DateTime)
    started: Mapped[datetime | None] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after", "id"),)
