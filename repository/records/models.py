"""Catalogue tables: records, their disseminated formats, keys, versions and sets; import batches.

Datestamps are naive UTC datetimes with whole seconds (OAI-PMH 3.3: UTC, seconds granularity).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


def utcnow() -> datetime:
    """Now, in UTC, naive, truncated to the second (the repository's granularity)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class OAISet(Base):
    """A set of records; ``a:b:c`` is a child of ``a:b`` (OAI-PMH 2.6)."""

    __tablename__ = "oai_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    spec: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class Record(Base):
    """One catalogue record, alive or a tombstone (deletedRecord=persistent: never hard-deleted)."""

    __tablename__ = "record"

    id: Mapped[int] = mapped_column(primary_key=True)
    local_id: Mapped[str] = mapped_column(String(255), unique=True)
    flavour: Mapped[str] = mapped_column(String(16))  # marc21, unimarc, dc
    source: Mapped[str] = mapped_column(Text)  # canonical MARCXML or DC XML, UTF-8, NFC
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[str] = mapped_column(String(16), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")  # book, serial, article, thesis, ...
    language: Mapped[str] = mapped_column(String(64), default="")
    datestamp: Mapped[datetime] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(DateTime)
    # the current version: its number, what made it, who, when, from which batch
    version: Mapped[int] = mapped_column(Integer, default=1)
    action: Mapped[str] = mapped_column(String(16), default="create")
    actor: Mapped[str] = mapped_column(String(255), default="")
    changed: Mapped[datetime] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    # about containers disseminated with the record (OAI-PMH 2.5), e.g. provenance of a harvested record
    about: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_record_datestamp_id", "datestamp", "id"),)


class RecordFormat(Base):
    """A record pre-serialised in one metadata format, so dissemination is a read."""

    __tablename__ = "record_format"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: the source itself (formats.render)


class RecordSet(Base):
    """Direct membership of a record in a set (ancestors are implied, OAI-PMH 2.7.2)."""

    __tablename__ = "record_set"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("oai_set.id"), primary_key=True)

    __table_args__ = (Index("ix_record_set_set_record", "set_id", "record_id"),)


class RecordKey(Base):
    """A match key of a record: control number (001+003), 035, ISBN, ISSN, content hash."""

    __tablename__ = "record_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)

    __table_args__ = (Index("ix_record_key_value_kind", "value", "kind"),)


class RecordVersion(Base):
    """A state a record had before a later version superseded it (the current one is the record row)."""

    __tablename__ = "record_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete, undelete, restore
    flavour: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    actor: Mapped[str] = mapped_column(String(255), default="")
    created: Mapped[datetime] = mapped_column(DateTime)


class ImportBatch(Base):
    """One imported file: where its original bytes are stored and what became of its records."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    object_key: Mapped[str] = mapped_column(String(128), default="")  # sha256 of the original file
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    syntax: Mapped[str] = mapped_column(String(16), default="")
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the import options
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
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


class BatchItem(Base):
    """A finding of a batch: a rejected or skipped record (with its raw bytes) or a warning."""

    __tablename__ = "batch_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based record number in the file
    offset: Mapped[int | None] = mapped_column(Integer)  # byte offset (ISO 2709)
    line: Mapped[int | None] = mapped_column(Integer)  # line (XML)
    outcome: Mapped[str] = mapped_column(String(16))  # rejected, skipped, warning
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    local_id: Mapped[str | None] = mapped_column(String(255))


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


class RecordFile(Base):
    """A file attached to a record: a content-addressed object, its access level and its text."""

    __tablename__ = "record_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))  # unique per record; the download URL's last part
    object_key: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the bytes
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(128))  # from the bytes, not the name
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(32))
    access: Mapped[str] = mapped_column(String(16), default="open")  # open, restricted, embargo
    embargo_until: Mapped[date | None] = mapped_column(Date)
    created: Mapped[datetime] = mapped_column(DateTime)
    # full text: pending, done, failed, none (a file with no text to find, e.g. audio)
    extraction: Mapped[str] = mapped_column(String(16), default="pending")
    method: Mapped[str] = mapped_column(String(16), default="")  # pdftotext, pypdf, ocr
    message: Mapped[str] = mapped_column(Text, default="")  # why extraction failed
    languages: Mapped[str] = mapped_column(String(64), default="")  # OCR languages, e.g. uzb+rus
    confidence: Mapped[float | None] = mapped_column(Float)  # mean OCR word confidence, 0-100

    __table_args__ = (Index("uq_record_file_record_name", "record_id", "name", unique=True),)


class FilePage(Base):
    """The text of one page of a file (a PDF page, a scan)."""

    __tablename__ = "file_page"

    file_id: Mapped[int] = mapped_column(ForeignKey("record_file.id"), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
