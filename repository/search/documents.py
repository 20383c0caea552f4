"""What the index holds of a record: its description by field, its facets, and its open files' text by page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalogue import queries
from repository.catalogue.models import FilePage, OAISet, Record, RecordFile, RecordSet
from repository.db import Database
from repository.metadata.description import describe_source
from repository.search.fold import fold, words
from repository.search.query import TEXT_FIELDS


@dataclass(frozen=True)
class Page:
    """One page of an open file's text."""

    file: str
    number: int
    text: str


@dataclass
class Document:
    """One record as the index sees it, in the record's own words; ``deleted`` ones are taken out."""

    record_id: int
    local_id: str
    deleted: bool = False
    title: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)  # search field -> values
    pages: list[Page] = field(default_factory=list)
    year: int | None = None
    kind: str = ""
    languages: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    hosts: list[queries.Host] = field(default_factory=list)

    @property
    def authors(self) -> list[str]:
        """The record's names, as its description gives them."""
        return self.fields.get("author", [])

    def indexed(self) -> Indexed:
        """What the index writes of this record: the folded words of every search field, sort keys, facets."""
        if self.deleted:
            return Indexed(self.record_id, self.local_id, True)
        uzbek = self.may_be_uzbek
        folded = tuple(" ".join(words(self.text(name), uzbek)) for name in TEXT_FIELDS)
        facets = tuple((name, tuple(values)) for name, values in self.facets().items())
        return Indexed(self.record_id, self.local_id, False, self.year, self.sort_title(), folded, facets)

    @property
    def may_be_uzbek(self) -> bool:
        """Whether the record's text may be Uzbek: its languages include Uzbek, or it states none (as for OCR).

        Only Uzbek text reads Turkish-style ş and ç as sh and ch (``fold``); in any other a Turkish or
        Azerbaijani name keeps its base letters, so ``Ayse Celik`` finds ``Ayşe Çelik``.
        """
        return not self.languages or "uzb" in self.languages

    def text(self, name: str) -> str:
        """The values of one search field, one per line (the full text: every page)."""
        if name == "text":
            return "\n".join(p.text for p in self.pages)
        return "\n".join(self.fields.get(name, ()))

    def facets(self) -> dict[str, list[str]]:
        """The facet values of the record (``FACETS``)."""
        return {
            "type": [self.kind] if self.kind else [],
            "lang": self.languages,
            "decade": [str(self.year // 10 * 10)] if self.year else [],
            "subject": list(dict.fromkeys(self.subjects)),
            "set": self.sets,
            "fulltext": ["yes" if any(p.text.strip() for p in self.pages) else "no"],
        }

    def sort_title(self) -> str:
        """The title as sorting sees it: folded, so both scripts sort together."""
        return fold(self.title)[:200]


class Indexed(NamedTuple):
    """What both backends write of a record: the words of each search field in ``TEXT_FIELDS`` order (as
    ``fold.words`` gives them), its year and sort title, and its facet values; a ``deleted`` one is taken out.

    Only this crosses from a reindex's worker processes to the writer, as a tuple: a whole
    ``Document``, raw values and page text beside the words, took the writer longer to unpickle than
    to index, and even a dataclass of dictionaries three times longer than tuples.
    """

    record_id: int
    local_id: str
    deleted: bool = False
    year: int | None = None
    title_key: str = ""
    words: tuple[str, ...] = ()  # one per search field, in ``TEXT_FIELDS`` order
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (facet, its values)


def documents(session: Session, record_ids: Iterable[int]) -> list[Document]:
    """The documents of these records (tombstones too, to be removed), with open files' text and hosts."""
    ids = sorted(set(record_ids))
    out: list[Document] = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        pages = _open_pages(session, part)
        sets = _sets(session, part)
        hosts = queries.hosts_of(session, part)
        # the columns only: a mapped Record per row is not needed to describe it, and costs more
        columns = (Record.id, Record.local_id, Record.deleted, Record.title, Record.kind, Record.flavour, Record.source)
        for rec in session.execute(select(*columns).where(Record.id.in_(part)).order_by(Record.id)):
            doc = Document(rec.id, rec.local_id, rec.deleted, title=rec.title, kind=rec.kind)
            if not rec.deleted:
                described = describe_source(rec.flavour, rec.source)
                doc.fields = described.fields
                doc.year = described.year
                doc.languages = described.languages
                doc.subjects = described.subjects
                doc.pages = pages.get(rec.id, [])
                doc.sets = sets.get(rec.id, [])
                doc.hosts = hosts.get(rec.id, [])
                for host in doc.hosts:  # the journal as its own record names it, too
                    if host.record is not None and host.record.title not in host.title:
                        doc.fields.setdefault("journal", []).append(host.record.title)
            out.append(doc)
    return out


_WORKER_DB: dict[str, Database] = {}


def to_index(session: Session, record_ids: Iterable[int]) -> list[Indexed]:
    """What the index writes of these records (tombstones too, to be removed)."""
    return [doc.indexed() for doc in documents(session, record_ids)]


def prepared(db_url: str, record_ids: list[int]) -> list[Indexed]:
    """What the index writes of these records, read from ``db_url``: a reindex's work for a worker process."""
    db = _WORKER_DB.get(db_url)
    if db is None:
        db = _WORKER_DB[db_url] = Database(db_url)
    with db.reading() as session:
        return to_index(session, record_ids)


def _open_pages(session: Session, record_ids: list[int]) -> dict[int, list[Page]]:
    """The page text of each record's files that the public may read (restricted text is not searchable)."""
    rows = session.execute(
        select(RecordFile, FilePage.page, FilePage.text)
        .join(FilePage, FilePage.file_id == RecordFile.id)
        .where(RecordFile.record_id.in_(record_ids))
        .order_by(RecordFile.record_id, RecordFile.id, FilePage.page)
    )
    out: dict[int, list[Page]] = {}
    for row, number, text in rows:
        if queries.is_public(row):
            out.setdefault(row.record_id, []).append(Page(row.name, number, text or ""))
    return out


def _sets(session: Session, record_ids: list[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(RecordSet.record_id, OAISet.spec)
        .join(OAISet, OAISet.id == RecordSet.set_id)
        .where(RecordSet.record_id.in_(record_ids))
        .order_by(OAISet.spec)
    )
    out: dict[int, list[str]] = {}
    for record_id, spec in rows:
        out.setdefault(record_id, []).append(spec)
    return out
