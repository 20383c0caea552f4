"""Records, their pre-serialised formats, match keys and earlier versions.

Datestamps are naive UTC datetimes with whole seconds (OAI-PMH 3.3: UTC, seconds granularity).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.db import Base


def utcnow() -> datetime:
    """Now, in UTC, naive, truncated to the second (the repository's granularity)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


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


class RecordKey(Base):
    """A match key of a record: control number (001+003), 035, ISBN, ISSN, content hash."""

    __tablename__ = "record_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)

    __table_args__ = (Index("ix_record_key_value_kind", "value", "kind"),)


class RecordLink(Base):
    """A record's host item (MARC 21 773, UNIMARC 461/463), by a match key the host may carry.

    Resolved when read, by joining ``record_key``: records arrive in any order, and an article
    imported before its journal finds it the moment the journal is stored.
    """

    __tablename__ = "record_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # which host field of the record (0, 1, ...)
    kind: Mapped[str] = mapped_column(String(16))  # the key's kind: ctl, issn, isbn
    value: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text, default="")  # the host's title as the record gives it
    part: Mapped[str] = mapped_column(Text, default="")  # volume, issue, pages (773 $g)

    __table_args__ = (Index("ix_record_link_value_kind", "value", "kind"),)


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


class ChangeBacklog(Base):
    """A change a subscriber of the change feed failed to take, kept to be sent again."""

    __tablename__ = "change_backlog"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    noted: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_change_backlog_subscriber_id", "subscriber", "id"),)
