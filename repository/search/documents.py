"""What the index holds of a record: its description by field, its facets, and its open files' text by page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalogue import queries
from repository.catalogue.models import FilePage, OAISet, Record, RecordFile, RecordSet
from repository.db import Database
from repository.metadata.description import describe_source
from repository.search.fold import fold, words


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
    folded: dict[str, str] = field(default_factory=dict, repr=False)  # search field -> its words, once made

    @property
    def authors(self) -> list[str]:
        """The record's names, as its description gives them."""
        return self.fields.get("author", [])

    def words(self, name: str) -> str:
        """The folded words of one search field, as both backends index them (made once, then kept)."""
        made = self.folded.get(name)
        if made is None:
            made = self.folded[name] = " ".join(words(self.text(name)))
        return made

    def fold_all(self, names: Iterable[str]) -> Document:
        """Make the words of every field in ``names`` now (in a worker process, before the index writes)."""
        for name in names:
            self.words(name)
        return self

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


def documents(session: Session, record_ids: Iterable[int]) -> list[Document]:
    """The documents of these records (tombstones too, to be removed), with open files' text and hosts."""
    ids = sorted(set(record_ids))
    out: list[Document] = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        pages = _open_pages(session, part)
        sets = _sets(session, part)
        hosts = queries.hosts_of(session, part)
        for rec in session.scalars(select(Record).where(Record.id.in_(part)).order_by(Record.id)):
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


def prepared(db_url: str, record_ids: list[int], names: tuple[str, ...]) -> list[Document]:
    """The documents of these records with the words of ``names`` folded: a reindex's work for a worker process."""
    db = _WORKER_DB.get(db_url)
    if db is None:
        db = _WORKER_DB[db_url] = Database(db_url)
    with db.reading() as session:
        return [doc.fold_all(names) for doc in documents(session, record_ids)]


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
