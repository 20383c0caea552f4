"""OAI-PMH repositories this one harvests, and where each harvest stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


class HarvestSource(Base):
    """An OAI-PMH repository this one harvests, and where its harvest stands."""

    __tablename__ = "harvest_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_url: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(64), default="oai_dc")
    sets: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of setSpecs (empty: everything)
    granularity: Mapped[str] = mapped_column(String(32), default="")  # as the source's Identify says
    # the last complete run: its first responseDate, the next incremental run's "from"
    last_response_date: Mapped[str | None] = mapped_column(String(32))
    last_finished: Mapped[datetime | None] = mapped_column(DateTime)
    # the run in progress (kept after a crash, so the next run finishes the job)
    run_from: Mapped[str | None] = mapped_column(String(32))
    run_set_index: Mapped[int] = mapped_column(Integer, default=0)
    run_token: Mapped[str | None] = mapped_column(Text)
    run_response_date: Mapped[str | None] = mapped_column(String(32))
    run_full: Mapped[bool] = mapped_column(Boolean, default=False)
    run_started: Mapped[datetime | None] = mapped_column(DateTime)
    run_records: Mapped[int] = mapped_column(Integer, default=0)
    run_deleted: Mapped[int] = mapped_column(Integer, default=0)
    run_set_aside: Mapped[int] = mapped_column(Integer, default=0)
    run_pages: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new, running, done, failed
    message: Mapped[str] = mapped_column(Text, default="")


class HarvestProblem(Base):
    """A harvested record that could not be read: kept with its raw bytes and reason, read again next run."""

    __tablename__ = "harvest_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_source.id"), index=True)
    identifier: Mapped[str] = mapped_column(Text, default="")  # the source's identifier ("" when unreadable)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
