"""Exporting the catalogue as a file: ISO 2709 (the union catalogue's monthly file), MARCXML, oai_dc.

Every record has a MARC form: Dublin Core records are converted to MARC 21 through the Library of
Congress DC-to-MARC crosswalk, marked as converted (042, 884); UNIMARC records are written with a
complete 100 $a and a UNIMARC record label.  A record a format cannot hold (a field over 9,999
bytes in ISO 2709) is reported, never silently truncated or dropped.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from repository.actions.outfile import output
from repository.catalogue import in_set, queries, set_ids
from repository.catalogue.models import Record, RecordFormat
from repository.errors import KutubxonaError, NotFound
from repository.metadata import dc as dcmod
from repository.metadata import marcxml
from repository.metadata.crosswalk import Conversion, dc_to_marc21
from repository.metadata.identifiers import oai_identifier
from repository.metadata.marc import MarcRecord, TooLongForISO2709, to_iso2709
from repository.metadata.unimarc import for_exchange

if TYPE_CHECKING:
    from repository.services import Services

EXPORT_FORMATS = ("iso2709", "marcxml", "oai_dc")


@dataclass(frozen=True)
class Agency:
    """Who exports, as the records it converts from Dublin Core say (001's OAI namespace, 003, 040, 884)."""

    repository_id: str
    name: str  # 040 when the library has no MARC organization code
    org_code: str = ""

    @classmethod
    def of(cls, services: Services) -> Agency:
        """The agency the settings describe."""
        s = services.settings
        return cls(s.repository_id, s.repository_name, s.marc_org_code)


def marc_form(rec: Record, agency: Agency, today: date | None = None) -> MarcRecord:
    """A record as the MARC exports write it: Dublin Core through the crosswalk, UNIMARC ready for exchange.

    ``today`` is the date of a Dublin Core record's conversion (884 $g).
    """
    if rec.flavour == "dc":
        about = Conversion(
            control_number=rec.local_id,
            source_id=oai_identifier(agency.repository_id, rec.local_id),
            entered=rec.created.date(),
            changed=rec.datestamp,
            converted=today or datetime.now(UTC).date(),
            agency=agency.org_code or agency.name,
            org_code=agency.org_code,
        )
        return dc_to_marc21(dcmod.parse(rec.source), about)
    record = marcxml.parse_record(rec.source)
    return for_exchange(record, rec.created.date()) if rec.flavour == "unimarc" else record


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
    agency: Agency,
    since: datetime | None = None,
    spec: str | None = None,
    local_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write every live record (changed since ``since``, in ``spec``; or the one ``local_id``) to ``out`` in ``fmt``.

    ``progress`` is called with 1 for each record done.
    """
    report = ExportReport()
    today = datetime.now(UTC).date()
    # UNIMARC is not MARC 21: a MARCXML export holding any is a MarcXchange collection (ISO 25577),
    # each record saying its format; one of MARC 21 alone stays MARC21slim, as readers expect
    exchange = fmt == "marcxml" and _any_unimarc(session, since, spec, local_id)
    if fmt == "marcxml":
        namespace = marcxml.MARCXCHANGE_NS if exchange else marcxml.SLIM_NS
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="{namespace}">\n'.encode())
    elif fmt == "oai_dc":
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<records>\n')
    for rec, xml in _records(session, since, spec, "oai_dc" if fmt == "oai_dc" else None, local_id):
        if progress is not None:
            progress(1)
        if xml is not None:
            out.write(xml + b"\n")
            report.written += 1
            continue
        if fmt == "marcxml" and rec.flavour == "marc21" and not exchange:
            out.write(rec.source.encode() + b"\n")  # stored as MARC21slim already
            report.written += 1
            continue
        record = marc_form(rec, agency, today)
        if fmt == "marcxml":
            if exchange:
                fmt_name = "UNIMARC" if rec.flavour == "unimarc" else "MARC21"
                out.write(marcxml.to_marcxml(record, marcxml.MARCXCHANGE_NS, fmt=fmt_name).encode() + b"\n")
            else:
                out.write(marcxml.to_marcxml(record).encode() + b"\n")
            report.written += 1
            continue
        try:
            out.write(to_iso2709(record, flavour="unimarc" if rec.flavour == "unimarc" else "marc21"))
            report.written += 1
        except TooLongForISO2709 as exc:
            report.problems.append({"record": rec.local_id, "reason": str(exc)})
    if fmt == "marcxml":
        out.write(b"</collection>\n")
    elif fmt == "oai_dc":
        out.write(b"</records>\n")
    return report


def count(services: Services, since: datetime | None = None, spec: str | None = None) -> int:
    """How many records an export with these choices writes (or reports), for a progress bar."""
    with services.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Record).where(*_selected(since, spec))) or 0


def export_file(
    services: Services,
    fmt: str,
    out: Path | str,
    since: datetime | None = None,
    spec: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Export to ``out``: a regular file appears only when complete; ``-`` is standard output (see ``outfile``)."""
    with services.db.reading() as session:
        if spec:
            set_ids(session, [spec])  # an unknown set is an error, not an empty file
        with output(out) as fh:
            return export(session, fmt, fh, Agency.of(services), since, spec, progress=progress)


def write_rejected(services: Services, batch_id: int, out: Path) -> int:
    """Write the rejected and skipped records of a batch to ``out``, to fix and import again."""
    with services.db.reading() as session:
        if queries.batch(session, batch_id) is None:
            raise NotFound(f"no batch {batch_id}")
        raws = queries.rejected_raw(session, batch_id)
    xml = any(raw.lstrip()[:1] == b"<" for raw in raws)
    with output(out) as fh:  # as an export writes: never through another user's symlink
        if xml:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="{marcxml.SLIM_NS}">\n'.encode())
        for raw in raws:
            fh.write(raw + (b"\n" if xml else b""))
        if xml:
            fh.write(b"</collection>\n")
    return len(raws)


class Unsupported(KutubxonaError):
    """A record that has no form in the format asked for (a record too long for ISO 2709)."""

    http_status = 404  # the record is there; this form of it is not


def export_record(services: Services, local_id: str, fmt: str) -> bytes:
    """One live record in ``fmt`` (``marcxml`` or ``iso2709``), as the export writes it."""
    out = io.BytesIO()
    with services.db.reading() as session:
        report = export(session, fmt, out, Agency.of(services), local_id=local_id)
    if report.problems:
        raise Unsupported(report.problems[0]["reason"])
    if not report.written:
        raise NotFound(f"no record {local_id!r}")
    return out.getvalue()
