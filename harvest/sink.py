"""Harvested records into this repository: upserts by source identifier, tombstones, provenance.

A harvested record's local identifier is ``NAME:<source OAI identifier>``; it belongs to the set
``source:NAME`` and is matched only by that identifier (never merged with a catalogued record by
ISBN).  MARCXML stays MARC, oai_dc stays DC.  Each is re-exposed with an ``about`` container holding
its provenance (OAI-PMH provenance guidelines), whose ``altered`` says whether the bytes we
disseminate differ from the ones we harvested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from sqlalchemy.orm import Session

from harvest.pages import Record as Harvested
from repository import catalogue
from repository.catalogue.models import Record
from repository.metadata import dc as dcmod
from repository.metadata import marcxml
from repository.metadata.formats import FORMATS, Payloads, Prepared, payload, prepare_dc, prepare_marc, render
from repository.metadata.reading import Incoming, check_marc
from repository.metadata.xmltext import escape

PROVENANCE_NS = "http://www.openarchives.org/OAI/2.0/provenance"
PROVENANCE_XSD = "http://www.openarchives.org/OAI/2.0/provenance.xsd"
_PREFIX_OF_NS = {f.namespace: prefix for prefix, f in FORMATS.items()}


@dataclass
class Written:
    """What one page did to the catalogue."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    set_aside: list[tuple[str, str]] = field(default_factory=list)  # (source identifier, reason)


def local_id(source: str, identifier: str) -> str:
    """Our local identifier of a harvested record."""
    return f"{source}:{identifier}"


def prepare(record: Harvested) -> Prepared:
    """Our form of a harvested record's metadata; raise ``ValueError`` with the reason when it has none."""
    meta = record.metadata
    namespace = etree.QName(meta).namespace if meta is not None else None
    if meta is None:
        raise ValueError("no metadata")
    if namespace in (marcxml.SLIM_NS, marcxml.MARCXCHANGE_NS):
        item = Incoming(0, b"")
        flavour = "unimarc" if (meta.get("format") or "").upper() == "UNIMARC" else "auto"
        try:
            check_marc(item, marcxml.from_element(meta), flavour)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if item.marc is None:
            raise ValueError(item.rejected or item.skipped or "unreadable MARC")
        return prepare_marc(item.marc, item.flavour)
    if namespace == dcmod.OAI_DC_NS:
        dc = dcmod.from_element(meta)
        if not dc.get("title"):
            raise ValueError("no title: dc:title is missing or empty")
        return prepare_dc(dc)
    raise ValueError(f"metadata in {namespace!r} is not a format this repository stores")


def provenance(record: Harvested, base_url: str, harvested: datetime, altered: bool) -> bytes:
    """The ``about`` container: where the record came from, with any earlier hops nested inside."""
    namespace = etree.QName(record.metadata).namespace if record.metadata is not None else ""
    earlier = b"".join(
        etree.tostring(origin)
        for about in record.about
        if etree.QName(about).localname == "provenance"
        for origin in about
        if isinstance(origin.tag, str) and etree.QName(origin).localname == "originDescription"
    )
    head = (
        f'<about><provenance xmlns="{PROVENANCE_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:schemaLocation="{PROVENANCE_NS} {PROVENANCE_XSD}">'
        f'<originDescription harvestDate="{harvested:%Y-%m-%dT%H:%M:%SZ}" altered="{str(altered).lower()}">'
        f"<baseURL>{escape(base_url)}</baseURL><identifier>{escape(record.identifier)}</identifier>"
        f"<datestamp>{escape(record.datestamp)}</datestamp><metadataNamespace>{escape(namespace or '')}"
        "</metadataNamespace>"
    )
    return head.encode() + earlier + b"</originDescription></provenance></about>"


def _altered(record: Harvested, prepared: Prepared, ours: Payloads) -> bool:
    """True when the payload we disseminate in the source's format differs from what we harvested."""
    prefix = _PREFIX_OF_NS.get(etree.QName(record.metadata).namespace)
    if prefix not in ours:
        return True
    theirs = etree.tostring(record.metadata, method="c14n")
    mine = etree.tostring(etree.fromstring(payload(ours[prefix], prepared.source)), method="c14n")
    return theirs != mine


def write(
    session: Session, source: str, base_url: str, set_id: int, records: list[Harvested], site: str, now: datetime
) -> Written:
    """Apply one page of harvested records; deletions become tombstones."""
    out = Written()
    ids = {local_id(source, r.identifier): r for r in records}
    found = catalogue.ids_of(session, ids)
    states = catalogue.load_states(session, found.values())
    changes: list[catalogue.Change] = []
    seen: set[str] = set()
    for record in records:
        local = local_id(source, record.identifier)
        if local in seen:
            continue  # a source that repeats a record in one page: the first one stands
        seen.add(local)
        if len(local) > 255:
            out.set_aside.append((record.identifier, "identifier longer than 255 characters"))
            continue
        state = states.get(found.get(local, -1))
        if record.deleted:
            if state is not None and not state.deleted:
                catalogue.delete_record(session, session.get(Record, state.id), actor=f"harvest:{source}")
                out.deleted += 1
            continue
        try:
            prepared = prepare(record)
        except ValueError as exc:
            out.set_aside.append((record.identifier, str(exc)))
            continue
        prepared.keys = []  # matched by the source identifier only
        if state is not None and state.content_hash == prepared.content_hash and not state.deleted:
            if set_id not in state.set_ids:
                changes.append(catalogue.Change("sets", local, None, state, {set_id}, actor=f"harvest:{source}"))
            out.unchanged += 1
            continue
        about = provenance(record, base_url, now, _altered(record, prepared, render(prepared, local, site)))
        action = "create" if state is None else ("undelete" if state.deleted else "update")
        changes.append(catalogue.Change(action, local, prepared, state, {set_id}, actor=f"harvest:{source}",
                                        about=about))  # fmt: skip
        if state is None:
            out.created += 1
        else:
            out.updated += 1
    session.flush()
    catalogue.apply(session, changes, site, now)
    return out
