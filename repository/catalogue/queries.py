"""Reading the catalogue: the records, versions and rows that pages and commands show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalogue.models import Record, RecordVersion
from repository.metadata.identifiers import local_from_oai


def resolve(session: Session, repository_id: str, ident: str) -> Record | None:
    """The record named by a local identifier or by its full OAI identifier."""
    record = session.scalar(select(Record).where(Record.local_id == ident))
    if record is None:
        local = local_from_oai(repository_id, ident)
        if local is not None:
            record = session.scalar(select(Record).where(Record.local_id == local))
    return record


@dataclass(frozen=True)
class Version:
    """One version of a record, as ``kutubxona history`` lists it."""

    number: int
    action: str
    flavour: str
    source: str
    batch_id: int | None
    actor: str
    created: datetime


def versions(session: Session, record: Record) -> list[Version]:
    """Every version of a record, oldest first; the last is the record as it is now."""
    rows = session.scalars(
        select(RecordVersion).where(RecordVersion.record_id == record.id).order_by(RecordVersion.number)
    )
    out = [Version(v.number, v.action, v.flavour, v.source, v.batch_id, v.actor, v.created) for v in rows]
    current = Version(
        record.version, record.action, record.flavour, record.source, record.batch_id, record.actor, record.changed
    )
    return [*out, current]
