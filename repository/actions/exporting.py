"""Exporting the catalogue as a file: ISO 2709 (the union catalogue's monthly file), MARCXML, oai_dc.

A record a format cannot hold (a DC record in ISO 2709, a field over 9,999 bytes) is reported,
never silently truncated or dropped.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from repository.catalogue import in_set, queries, set_ids
from repository.catalogue.models import Record, RecordFormat
from repository.errors import KutubxonaError, NotFound
from repository.metadata import marcxml
from repository.metadata.marc import TooLongForISO2709, to_iso2709

if TYPE_CHECKING:
    from repository.services import Services

EXPORT_FORMATS = ("iso2709", "marcxml", "oai_dc")


@dataclass
class ExportReport:
    """How many records were written, and which could not be, with why."""

    written: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)


def _selected(since: datetime | None, spec: str | None, local_id: str | None = None) -> list[ColumnElement[bool]]:
    """The records an export takes: live ones, changed since ``since``, in set ``spec`` (or the one ``local_id``)."""
    conditions = [Record.deleted.is_(False)]
    if local_id is not None:
        conditions.append(Record.local_id == local_id)
    if since is not None:
        conditions.append(Record.datestamp >= since)
    if spec is not None:
        conditions.append(in_set(spec))
    return conditions


def _records(
    session: Session, since: datetime | None, spec: str | None, prefix: str | None = None, local_id: str | None = None
) -> Iterator[tuple[Record, bytes | None]]:
    """Live records in id order (with their payload in ``prefix``), read in keyset pages: memory stays flat."""
    last = 0
    while True:
        stmt = select(Record, RecordFormat.xml) if prefix is not None else select(Record)
        stmt = stmt.where(*_selected(since, spec, local_id), Record.id > last)
        if prefix is not None:
            stmt = stmt.join(RecordFormat, and_(RecordFormat.record_id == Record.id, RecordFormat.prefix == prefix))
        page = session.execute(stmt.order_by(Record.id).limit(500)).all()
        if not page:
            return
        for row in page:
            yield row[0], (row[1] if prefix is not None else None)
        last = page[-1][0].id
        session.expunge_all()


def _any_unimarc(session: Session, since: datetime | None, spec: str | None, local_id: str | None) -> bool:
    """True when the records an export selects include a UNIMARC one."""
    selected = _selected(since, spec, local_id)
    return session.scalar(select(Record.id).where(*selected, Record.flavour == "unimarc").limit(1)) is not None


def export(
    session: Session,
    fmt: str,
    out: BinaryIO,
    since: datetime | None = None,
    spec: str | None = None,
    local_id: str | None = None,
) -> ExportReport:
    """Write every live record (changed since ``since``, in ``spec``; or the one ``local_id``) to ``out`` in ``fmt``."""
    report = ExportReport()
    # UNIMARC is not MARC 21: a MARCXML export holding any is a MarcXchange collection (ISO 25577),
    # each record saying its format; one of MARC 21 alone stays MARC21slim, as readers expect
    exchange = fmt == "marcxml" and _any_unimarc(session, since, spec, local_id)
    if fmt == "marcxml":
        namespace = marcxml.MARCXCHANGE_NS if exchange else marcxml.SLIM_NS
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="{namespace}">\n'.encode())
    elif fmt == "oai_dc":
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<records>\n')
    for rec, xml in _records(session, since, spec, "oai_dc" if fmt == "oai_dc" else None, local_id):
        if xml is not None:
            out.write(xml + b"\n")
            report.written += 1
            continue
        if rec.flavour == "dc":
            report.problems.append({"record": rec.local_id, "reason": f"a Dublin Core record has no {fmt} form"})
            continue
        if fmt == "marcxml" and not exchange:
            out.write(rec.source.encode() + b"\n")
            report.written += 1
            continue
        record = marcxml.parse_record(rec.source)
        if rec.flavour == "unimarc":
            record = marcxml.declared_utf8(record)  # written in UTF-8: 100$a/26-29 must say so
        if fmt == "marcxml":
            fmt_name = "UNIMARC" if rec.flavour == "unimarc" else "MARC21"
            out.write(marcxml.to_marcxml(record, marcxml.MARCXCHANGE_NS, fmt=fmt_name).encode() + b"\n")
            report.written += 1
            continue
        try:
            out.write(to_iso2709(record))
            report.written += 1
        except TooLongForISO2709 as exc:
            report.problems.append({"record": rec.local_id, "reason": str(exc)})
    if fmt == "marcxml":
        out.write(b"</collection>\n")
    elif fmt == "oai_dc":
        out.write(b"</records>\n")
    return report


def export_file(
    services: Services, fmt: str, out: Path, since: datetime | None = None, spec: str | None = None
) -> ExportReport:
    """Export to the file ``out``, which appears only when complete (written as ``out.part`` first)."""
    with services.db.reading() as session:
        if spec:
            set_ids(session, [spec])  # an unknown set is an error, not an empty file
        tmp = out.with_name(out.name + ".part")
        with open(tmp, "wb") as fh:
            report = export(session, fmt, fh, since, spec)
        os.replace(tmp, out)
    return report


def write_rejected(services: Services, batch_id: int, out: Path) -> int:
    """Write the rejected and skipped records of a batch to ``out``, to fix and import again."""
    with services.db.reading() as session:
        if queries.batch(session, batch_id) is None:
            raise NotFound(f"no batch {batch_id}")
        raws = queries.rejected_raw(session, batch_id)
    xml = any(raw.lstrip()[:1] == b"<" for raw in raws)
    with open(out, "wb") as fh:
        if xml:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="{marcxml.SLIM_NS}">\n'.encode())
        for raw in raws:
            fh.write(raw + (b"\n" if xml else b""))
        if xml:
            fh.write(b"</collection>\n")
    return len(raws)


class Unsupported(KutubxonaError):
    """A record that has no form in the format asked for (Dublin Core as MARC; a record too long for ISO 2709)."""

    http_status = 404  # the record is there; this form of it is not


def export_record(services: Services, local_id: str, fmt: str) -> bytes:
    """One live record in ``fmt`` (``marcxml`` or ``iso2709``), as the export writes it."""
    out = io.BytesIO()
    with services.db.reading() as session:
        report = export(session, fmt, out, local_id=local_id)
    if report.problems:
        raise Unsupported(report.problems[0]["reason"])
    if not report.written:
        raise NotFound(f"no record {local_id!r}")
    return out.getvalue()
