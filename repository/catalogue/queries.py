"""Reading the catalogue: the records, versions and rows that pages and commands show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from repository.catalogue.models import (
    BatchItem,
    ExhibitItem,
    FilePage,
    HarvestProblem,
    HarvestSource,
    ImportBatch,
    OAISet,
    Record,
    RecordFile,
    RecordFormat,
    RecordKey,
    RecordLink,
    RecordVersion,
)
from repository.catalogue.sets import in_set
from repository.metadata.identifiers import local_from_oai


def resolve(session: Session, repository_id: str, ident: str) -> Record | None:
    """The record named by a local identifier or by its full OAI identifier."""
    found = record(session, ident)
    if found is None:
        local = local_from_oai(repository_id, ident)
        if local is not None:
            found = record(session, local)
    return found


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


# --------------------------------------------------------------------------------- records


def record(session: Session, local_id: str) -> Record | None:
    """The record with this local identifier, alive or a tombstone."""
    return session.scalar(select(Record).where(Record.local_id == local_id))


def live_count(session: Session) -> int:
    """How many records are not deleted."""
    return session.scalar(select(func.count()).select_from(Record).where(Record.deleted.is_(False))) or 0


def record_counts(session: Session) -> dict[str, int]:
    """How many records are live and how many deleted (tombstones)."""
    rows = session.execute(select(Record.deleted, func.count()).group_by(Record.deleted))
    counts = {"live": 0, "deleted": 0}
    for deleted, n in rows:
        counts["deleted" if deleted else "live"] = n
    return counts


def live_in_range(session: Session, first_id: int, last_id: int) -> list[tuple[str, datetime]]:
    """``(local_id, datestamp)`` of the live records whose ids are in [first_id, last_id], in id order."""
    stmt = select(Record.local_id, Record.datestamp).where(
        Record.deleted.is_(False), Record.id.between(first_id, last_id)
    )
    return [(local_id, stamp) for local_id, stamp in session.execute(stmt.order_by(Record.id))]


def set_by_spec(session: Session, spec: str) -> OAISet | None:
    """The set named ``spec``, if there is one."""
    return session.scalar(select(OAISet).where(OAISet.spec == spec))


def set_members(
    session: Session, the_set: OAISet, offset: int, limit: int
) -> tuple[int, list[tuple[Record, str | None]]]:
    """How many live records a set holds (its subsets' too), and ``limit`` of them with their captions.

    The exhibition's items come first in their curated order, then the rest by title.
    """
    where = (Record.deleted.is_(False), in_set(the_set.spec))
    total = session.scalar(select(func.count()).select_from(Record).where(*where)) or 0
    stmt = (
        select(Record, ExhibitItem.caption)
        .outerjoin(ExhibitItem, (ExhibitItem.record_id == Record.id) & (ExhibitItem.set_id == the_set.id))
        .where(*where)
        .order_by(ExhibitItem.position.is_(None), ExhibitItem.position, Record.title, Record.id)
        .offset(offset)
        .limit(limit)
    )
    return total, [(rec, caption) for rec, caption in session.execute(stmt)]


def exhibit_records(session: Session, the_set: OAISet) -> list[str]:
    """The local ids of a set's curated items, in order (deleted ones included: the list is as written)."""
    stmt = (
        select(Record.local_id)
        .join(ExhibitItem, ExhibitItem.record_id == Record.id)
        .where(ExhibitItem.set_id == the_set.id)
        .order_by(ExhibitItem.position)
    )
    return list(session.scalars(stmt))


def exhibitions(session: Session) -> list[OAISet]:
    """The sets that are exhibitions (an introduction, a cover or curated items), by name."""
    curated = select(ExhibitItem.set_id)
    stmt = select(OAISet).where(
        OAISet.introduction.is_not(None) | OAISet.cover_key.is_not(None) | OAISet.id.in_(curated)
    )
    return list(session.scalars(stmt.order_by(OAISet.name, OAISet.spec)))


def last_record_id(session: Session) -> int:
    """The highest record id (0 when the catalogue is empty)."""
    return session.scalar(select(func.max(Record.id))) or 0


def recent(session: Session, limit: int) -> list[Record]:
    """The live records changed last, newest first."""
    stmt = select(Record).where(Record.deleted.is_(False)).order_by(Record.datestamp.desc(), Record.id.desc())
    return list(session.scalars(stmt.limit(limit)))


def stored_formats(session: Session, record_id: int) -> dict[str, bytes | None]:
    """A record's payloads as stored, by metadata prefix (None: made from the source when read)."""
    rows = session.execute(select(RecordFormat.prefix, RecordFormat.xml).where(RecordFormat.record_id == record_id))
    return {prefix: xml for prefix, xml in rows}


def all_sets(session: Session) -> list[OAISet]:
    """Every set, by spec."""
    return list(session.scalars(select(OAISet).order_by(OAISet.spec)))


# --------------------------------------------------------------------------------- files


def files_of(session: Session, record_id: int) -> list[RecordFile]:
    """A record's files, in the order they were attached."""
    return list(session.scalars(select(RecordFile).where(RecordFile.record_id == record_id).order_by(RecordFile.id)))


def pages_of(session: Session, file_id: int) -> list[FilePage]:
    """A file's pages of text."""
    return list(session.scalars(select(FilePage).where(FilePage.file_id == file_id).order_by(FilePage.page)))


def file_of(session: Session, local_id: str, name: str) -> RecordFile | None:
    """File ``name`` of the live record ``local_id``."""
    return session.scalar(
        select(RecordFile)
        .join(Record, Record.id == RecordFile.record_id)
        .where(Record.local_id == local_id, RecordFile.name == name, Record.deleted.is_(False))
    )


def is_public(row: RecordFile, today: date | None = None) -> bool:
    """True when the web may serve the file (open, or an embargo that has ended)."""
    if row.access == "open":
        return True
    return row.access == "embargo" and row.embargo_until is not None and row.embargo_until <= (today or date.today())


def files_needing_text(session: Session, record_id: int | None, redo: bool) -> list[int]:
    """Ids of the files (of one record, or all) whose text is to be extracted: pending or failed, or all."""
    stmt = select(RecordFile.id).order_by(RecordFile.id)
    if record_id is not None:
        stmt = stmt.where(RecordFile.record_id == record_id)
    if not redo:
        stmt = stmt.where(RecordFile.extraction.in_(("pending", "failed")))
    return list(session.scalars(stmt))


def object_keys(session: Session) -> list[str]:
    """Every stored object the database points at: attached files, imported originals, exhibition covers."""
    files = set(session.scalars(select(RecordFile.object_key)))
    originals = {k for k in session.scalars(select(ImportBatch.object_key)) if k}
    covers = {k for k in session.scalars(select(OAISet.cover_key)) if k}
    return sorted(files | originals | covers)


# --------------------------------------------------------------------------------- batches and sources


def batches(session: Session) -> list[ImportBatch]:
    """Every import batch, newest first."""
    return list(session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())))


def batch(session: Session, batch_id: int) -> ImportBatch | None:
    """One import batch."""
    return session.get(ImportBatch, batch_id)


def batch_items(session: Session, batch_id: int) -> list[BatchItem]:
    """A batch's findings (rejected, skipped, warnings), in the order they were found."""
    return list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id)))


def rejected_raw(session: Session, batch_id: int) -> list[bytes]:
    """The raw bytes of a batch's rejected and skipped records, in file order."""
    stmt = (
        select(BatchItem.raw)
        .where(BatchItem.batch_id == batch_id, BatchItem.outcome.in_(("rejected", "skipped")))
        .order_by(BatchItem.position)
    )
    return [raw for raw in session.scalars(stmt) if raw]


def harvest_sources(session: Session) -> list[HarvestSource]:
    """Every harvest source, by name."""
    return list(session.scalars(select(HarvestSource).order_by(HarvestSource.name)))


def harvest_problems(session: Session, source_id: int) -> list[HarvestProblem]:
    """The records of a harvest source that could not be read, oldest first."""
    stmt = select(HarvestProblem).where(HarvestProblem.source_id == source_id).order_by(HarvestProblem.id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Host:
    """The host item of an article or part: the title and part its record gives, and the host's record if held."""

    title: str
    part: str
    record: Record | None

    def as_json(self) -> dict:
        """The host as search hits and the API show it: the held record's title and id when there is one."""
        return {
            "title": self.record.title if self.record else self.title,
            "part": self.part,
            "id": self.record.local_id if self.record else None,
        }


def hosts_of(session: Session, record_ids: list[int]) -> dict[int, list[Host]]:
    """Each record's host items, in field order, resolved through match keys (a deleted host is not held)."""
    links = session.execute(
        select(RecordLink.record_id, RecordLink.position, RecordLink.title, RecordLink.part, Record)
        .outerjoin(RecordKey, (RecordKey.kind == RecordLink.kind) & (RecordKey.value == RecordLink.value))
        .outerjoin(Record, (Record.id == RecordKey.record_id) & Record.deleted.is_(False))
        .where(RecordLink.record_id.in_(record_ids))
        .order_by(RecordLink.record_id, RecordLink.position, Record.id)
    )
    found: dict[tuple[int, int], Host] = {}
    for record_id, position, title, part, host in links:
        known = found.get((record_id, position))
        if known is None or (known.record is None and host is not None):
            own = host is not None and host.id == record_id
            found[(record_id, position)] = Host(title, part, None if own else host)
    out: dict[int, list[Host]] = {}
    for (record_id, _), host in sorted(found.items()):
        out.setdefault(record_id, []).append(host)
    return out


def parts_of(session: Session, record_id: int, limit: int = 500) -> list[tuple[Record, str]]:
    """The live articles and parts whose host is this record, with their part (volume, pages), by title."""
    keys = select(RecordKey.kind, RecordKey.value).where(RecordKey.record_id == record_id)
    rows = session.execute(
        select(Record, func.min(RecordLink.part))
        .join(RecordLink, RecordLink.record_id == Record.id)
        .where(tuple_(RecordLink.kind, RecordLink.value).in_(keys), Record.deleted.is_(False), Record.id != record_id)
        .group_by(Record.id)
        .order_by(Record.title, Record.id)
        .limit(limit)
    )
    return [(rec, part) for rec, part in rows]
