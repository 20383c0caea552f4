"""What the index holds of a record: its description by field, and the text of its open files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalogue import queries
from repository.catalogue.models import FilePage, Record, RecordFile
from repository.metadata.formats import prepare_source

#: index field -> the Dublin Core elements it is made of (MARC 21, UNIMARC and DC alike, by the crosswalk)
FIELDS = {
    "title": ("title",),
    "author": ("creator", "contributor"),
    "subject": ("subject", "coverage"),
    "publisher": ("publisher",),
    "other": ("description", "identifier", "source", "relation", "date", "type", "language", "format"),
}


@dataclass
class Document:
    """One record as the index sees it; ``deleted`` ones are taken out of the index."""

    record_id: int
    local_id: str
    deleted: bool = False
    fields: dict[str, str] = field(default_factory=dict)  # index field -> the record's own text
    year: str = ""
    kind: str = ""
    language: str = ""


def documents(session: Session, record_ids: Iterable[int]) -> list[Document]:
    """The documents of these records (tombstones too, to be removed), with the text of open files."""
    ids = sorted(set(record_ids))
    out: list[Document] = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        texts = _open_text(session, part)
        for rec in session.scalars(select(Record).where(Record.id.in_(part)).order_by(Record.id)):
            doc = Document(rec.id, rec.local_id, rec.deleted, year=rec.year, kind=rec.kind, language=rec.language)
            if not rec.deleted:
                dc = prepare_source(rec.flavour, rec.source).dc
                doc.fields = {name: "\n".join(v for e in elements for v in dc.get(e)) for name, elements in
                              FIELDS.items()}  # fmt: skip
                doc.fields["text"] = texts.get(rec.id, "")
            out.append(doc)
    return out


def _open_text(session: Session, record_ids: list[int]) -> dict[int, str]:
    """The page text of each record's files that the public may read (restricted text is not searchable)."""
    rows = session.execute(
        select(RecordFile, FilePage.text)
        .join(FilePage, FilePage.file_id == RecordFile.id)
        .where(RecordFile.record_id.in_(record_ids))
        .order_by(RecordFile.record_id, RecordFile.id, FilePage.page)
    )
    out: dict[int, list[str]] = {}
    for row, text in rows:
        if queries.is_public(row):
            out.setdefault(row.record_id, []).append(text)
    return {rid: "\n".join(pages) for rid, pages in out.items()}
