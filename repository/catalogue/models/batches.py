"""Import batches: one imported file and what became of each of its records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


class ImportBatch(Base):
    """One imported file: where its original bytes are stored and what became of its records."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    object_key: Mapped[str] = mapped_column(String(128), default="")  # sha256 of the original file
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    syntax: Mapped[str] = mapped_column(String(16), default="")
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the import options
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed, interrupted
    message: Mapped[str] = mapped_column(Text, default="")
    started: Mapped[datetime] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    records: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    # who runs it and when it last committed: a "running" batch whose process is gone was interrupted
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime)


class BatchItem(Base):
    """A finding of a batch: a rejected or skipped record (with its raw bytes) or a warning."""

    __tablename__ = "batch_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based record number in the file
    # byte offset (ISO 2709), past 2 GiB too: BIGINT (SQLite's INTEGER is 64-bit already)
    offset: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    line: Mapped[int | None] = mapped_column(Integer)  # line (XML)
    outcome: Mapped[str] = mapped_column(String(16))  # rejected, skipped, warning
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    local_id: Mapped[str | None] = mapped_column(String(255))
