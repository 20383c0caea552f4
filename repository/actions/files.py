"""Files attached to records: storing them safely, their access, their text, their fixity.

The database row of a file is written only after its object is stored and read back with the
right checksum, so a failure leaves no row pointing at nothing.  Attaching, a change of access
and the end of an embargo all bump the record's datestamp (open files are linked from what the
record disseminates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from repository import catalogue
from repository.actions.records import find
from repository.catalogue import feed, queries
from repository.catalogue.models import FilePage, Record, RecordFile, utcnow
from repository.errors import KutubxonaError
from repository.fulltext import ExtractionError
from repository.fulltext.extract import Extraction, own_text
from repository.fulltext.ocr import languages_for, ocr_batches
from repository.storage import ObjectStore, StorageError, local_copy, open_store
from repository.storage.base import CHUNK
from repository.storage.mime import sniff

if TYPE_CHECKING:
    from repository.services import Services

ACCESS = ("open", "restricted")


class AttachError(KutubxonaError, ValueError):
    """A file that cannot be attached as asked (bad access level, unreadable file)."""


def parse_access(value: str) -> tuple[str, date | None]:
    """``open``, ``restricted`` or ``embargo:YYYY-MM-DD``."""
    if value in ACCESS:
        return value, None
    if value.startswith("embargo:"):
        try:
            return "embargo", date.fromisoformat(value.split(":", 1)[1])
        except ValueError:
            pass
    raise AttachError(f"access must be open, restricted or embargo:YYYY-MM-DD, not {value!r}")


def verify(store: ObjectStore, key: str) -> str:
    """Read an object back and return its sha256."""
    digest = hashlib.sha256()
    with store.open(key) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Attached:
    """What attaching one file did."""

    file_id: int
    name: str
    sha256: str
    size: int
    mime: str
    new: bool


def attach(session: Session, store: ObjectStore, base_url: str, record: Record, path: Path, access: str) -> Attached:
    """Store ``path`` and attach it to ``record`` under its file name; bump the record's datestamp."""
    level, until = parse_access(access)
    try:
        with open(path, "rb") as fh:
            mime = sniff(fh.read(8192))
            fh.seek(0)
            stored = store.put(fh)
    except OSError as exc:
        raise AttachError(f"cannot read {path}: {exc.strerror}") from None
    if verify(store, stored.key) != stored.sha256:
        raise StorageError(f"{path.name}: the stored object does not match the file's checksum")
    name = path.name
    row = session.scalar(select(RecordFile).where(RecordFile.record_id == record.id, RecordFile.name == name))
    new = row is None or row.sha256 != stored.sha256
    if row is None:
        row = RecordFile(record_id=record.id, name=name, created=utcnow())
        session.add(row)
    if new:
        if row.id is not None:
            session.execute(delete(FilePage).where(FilePage.file_id == row.id))
        row.extraction, row.method, row.message, row.confidence = "pending", "", "", None
    row.object_key, row.size, row.mime = stored.key, stored.size, mime
    row.sha256, row.md5 = stored.sha256, stored.md5
    row.access, row.embargo_until = level, until
    session.flush()
    catalogue.rerender(session, base_url, [record.id], touch=True)
    return Attached(row.id, name, stored.sha256, stored.size, mime, new)


def extract_file(
    services: Services,
    file_id: int,
    ocr_mode: str = "auto",
    languages: str | None = None,
    pages_done: Callable[[int, int], None] | None = None,
) -> None:
    """Extract (or recognise) a file's text into its pages; a failure is recorded on the file, never raised.

    A text layer is stored in one commit.  Recognised pages are committed a batch at a time
    (``ocr.ocr_batches``) while the file is marked as being recognised (method ``ocr``, still
    pending), and ``pages_done(pages stored, pages in the file)`` is told after each batch: an
    interrupted recognition goes on after its last stored page, in the languages it began with.
    """
    with services.db.reading() as session:
        row = session.get(RecordFile, file_id)
        record = session.get(Record, row.record_id)
        langs = languages or languages_for((record.language or "").split() if record else [])
        going_on = row.method == "ocr" and row.extraction != "done" and ocr_mode != "never"
        stored = session.scalar(select(func.count()).where(FilePage.file_id == file_id)) if going_on else 0
        langs = (row.languages or langs) if going_on else langs
        key, mime, suffix = row.object_key, row.mime, Path(row.name).suffix
    try:
        with local_copy(services.store, key, f"file{suffix}") as path:
            found = Extraction([], "ocr", langs) if going_on else own_text(path, mime, ocr_mode, langs)
            if found.method != "ocr":
                _store_pages(services, file_id, found, replace=True)
                return
            if not going_on:
                _store_pages(services, file_id, found, replace=True, finished=False)
            seconds = services.settings.ocr_page_seconds
            for total, batch in ocr_batches(path, mime, found.languages, seconds, first=stored + 1):
                found.pages = batch
                _store_pages(services, file_id, found, first=stored + 1, finished=stored + len(batch) >= total)
                stored += len(batch)
                if pages_done is not None:
                    pages_done(stored, total)
    except (ExtractionError, StorageError) as exc:
        with services.db.transaction() as session:
            row = session.get(RecordFile, file_id)
            row.extraction, row.message = "failed", str(exc)


def _store_pages(
    services: Services, file_id: int, found: Extraction, first: int = 1, replace: bool = False, finished: bool = True
) -> None:
    """Commit pages of a file from page ``first`` (after deleting its old ones when ``replace``), and its state."""
    with services.db.transaction() as session:
        row = session.get(RecordFile, file_id)
        if replace:
            session.execute(delete(FilePage).where(FilePage.file_id == file_id))
        session.add_all(FilePage(file_id=file_id, page=n, text=text, confidence=conf)
                        for n, (text, conf) in enumerate(found.pages, first))  # fmt: skip
        row.method, row.languages, row.message = found.method, found.languages, ""
        if not finished:  # recognition under way: the pages so far are kept, the file is not done
            row.extraction, row.confidence = "pending", None
            return
        session.flush()
        mean = session.scalar(select(func.avg(FilePage.confidence)).where(FilePage.file_id == file_id))
        row.extraction = "done" if found.method != "none" else "none"
        row.confidence = round(float(mean), 1) if mean is not None else None
        feed.note(session, [row.record_id], "text")


def release_embargoes(session: Session, base_url: str, today: date | None = None) -> list[str]:
    """Open every file whose embargo has ended; bump their records; return ``record/file`` names."""
    today = today or date.today()
    rows = session.scalars(
        select(RecordFile).where(RecordFile.access == "embargo", RecordFile.embargo_until <= today)
    ).all()
    for row in rows:
        row.access = "open"
    session.flush()
    records = sorted({row.record_id for row in rows})
    if records:
        catalogue.rerender(session, base_url, records, touch=True)
    names = (
        dict(session.execute(select(Record.id, Record.local_id).where(Record.id.in_(records))).all()) if records else {}
    )
    return [f"{names[row.record_id]}/{row.name}" for row in rows]


@dataclass
class Fixity:
    """The result of checking one stored object."""

    key: str
    files: list[str]
    status: str  # ok, missing, corrupt


def check_fixity(session: Session, store: ObjectStore) -> Iterator[Fixity]:
    """Re-read every object the database points at and compare its sha256."""
    rows = session.execute(
        select(RecordFile.object_key, RecordFile.sha256, Record.local_id, RecordFile.name)
        .join(Record, Record.id == RecordFile.record_id)
        .order_by(RecordFile.object_key)
    ).all()
    by_key: dict[str, tuple[str, list[str]]] = {}
    for key, sha, local, name in rows:
        by_key.setdefault(key, (sha, []))[1].append(f"{local}/{name}")
    for key, (sha, files) in by_key.items():
        try:
            status = "ok" if verify(store, key) == sha else "corrupt"
        except StorageError:
            status = "missing"
        yield Fixity(key, files, status)


def copy_objects(source: ObjectStore, target: ObjectStore, keys: list[str]) -> Iterator[tuple[str, str]]:
    """Copy objects between stores, verifying each; those already there are skipped (a rerun resumes)."""
    for key in keys:
        if target.exists(key) and verify(target, key) == key:
            yield key, "present"
            continue
        with source.open(key) as fh:
            stored = target.put(fh)
        if stored.key != key or verify(target, key) != key:
            raise StorageError(f"object {key} changed on its way to {target.url}")
        yield key, "copied"


# --------------------------------------------------------------------------------- actions


def attach_file(
    services: Services, ident: str, path: Path, access: str, ocr_mode: str = "auto", languages: str | None = None
) -> tuple[str, Attached, RecordFile]:
    """Attach one file to record ``ident`` and extract its text; returns (local id, what was stored, the row).

    The file is committed before its text is extracted, so a failing extraction keeps the file.
    """
    with services.db.transaction() as session:
        rec = find(session, services, ident)
        local_id = rec.local_id
        done = attach(session, services.store, services.base_url, rec, path, access)
        pending = session.get(RecordFile, done.file_id).extraction == "pending"
    if pending:
        extract_file(services, done.file_id, ocr_mode, languages)
    with services.db.reading() as session:
        return local_id, done, session.get(RecordFile, done.file_id)


def files_to_extract(services: Services, ident: str | None, redo: bool = False) -> list[int]:
    """The files of record ``ident`` (None: of every record) whose text is pending or failed (or all)."""
    with services.db.reading() as session:
        record_id = find(session, services, ident).id if ident else None
        return queries.files_needing_text(session, record_id, redo)


def extract_texts(
    services: Services,
    file_ids: list[int],
    languages: str | None = None,
    each: Callable[[RecordFile], None] | None = None,
    pages_done: Callable[[int, int], None] | None = None,
) -> int:
    """Extract the text of each file, committed as it goes (an interrupted run resumes); how many failed."""
    failed = 0
    for file_id in file_ids:
        extract_file(services, file_id, "auto", languages, pages_done)
        with services.db.reading() as session:
            row = session.get(RecordFile, file_id)
        failed += row.extraction == "failed"
        if each is not None:
            each(row)
    return failed


def fixity(services: Services) -> list[Fixity]:
    """Check every stored object of every file against its sha256."""
    with services.db.reading() as session:
        return list(check_fixity(session, services.store))


def copy_storage(services: Services, target_url: str) -> dict[str, int]:
    """Copy every stored object to another store, verified; counts of copied and already present."""
    target = open_store(target_url, endpoint=services.settings.s3_endpoint)
    with services.db.reading() as session:
        keys = queries.object_keys(session)
    counts = {"objects": len(keys), "copied": 0, "present": 0}
    try:
        for _key, outcome in copy_objects(services.store, target, keys):
            counts[outcome] += 1
    except StorageError as exc:
        raise StorageError(f"{exc} (copied {counts['copied']} so far; run again to go on)") from None
    return counts


def release(services: Services) -> list[str]:
    """Open every file whose embargo has ended; returns ``record/file`` names."""
    with services.db.transaction() as session:
        return release_embargoes(session, services.base_url)
