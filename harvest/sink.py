"""Harvested records in this repository's form: their metadata prepared, their provenance written.

A harvested record's local identifier is ``NAME:<source OAI identifier>``; it belongs to the set
``source:NAME`` and is matched only by that identifier (never merged with a catalogued record by
ISBN).  MARCXML stays MARC, oai_dc stays DC.  Each is re-exposed with an ``about`` container holding
its provenance (OAI-PMH provenance guidelines), whose ``altered`` says whether the bytes we
disseminate differ from the ones we harvested.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from harvest.pages import Record as Harvested
from repository.metadata import dc as dcmod
from repository.metadata import marcxml
from repository.metadata.formats import FORMATS, Payloads, Prepared, payload, prepare_dc, prepare_marc
from repository.metadata.reading import Incoming, check_marc
from repository.metadata.xmltext import escape

PROVENANCE_NS = "http://www.openarchives.org/OAI/2.0/provenance"
PROVENANCE_XSD = "http://www.openarchives.org/OAI/2.0/provenance.xsd"
_PREFIX_OF_NS = {f.namespace: prefix for prefix, f in FORMATS.items()}


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


def altered(record: Harvested, prepared: Prepared, ours: Payloads) -> bool:
    """True when the payload we disseminate in the source's format differs from what we harvested."""
    prefix = _PREFIX_OF_NS.get(etree.QName(record.metadata).namespace)
    if prefix not in ours:
        return True
    theirs = etree.tostring(record.metadata, method="c14n")
    mine = etree.tostring(etree.fromstring(payload(ours[prefix], prepared.source)), method="c14n")
    return theirs != mine
