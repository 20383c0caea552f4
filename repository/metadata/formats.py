"""The metadata formats records are disseminated in, and rendering a record into them at write time.

Rendering at write time is what makes OAI-PMH fast: a ListRecords page is one query plus the
concatenation of these stored bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from repository.metadata import crosswalk, marcxml
from repository.metadata import dc as dcmod
from repository.metadata import keys as keymod
from repository.metadata.identifiers import record_path
from repository.metadata.marc import DataField, MarcRecord


@dataclass(frozen=True)
class MetadataFormat:
    """An OAI-PMH metadata format: prefix, schema and namespace (OAI-PMH 4.4)."""

    prefix: str
    schema: str
    namespace: str
    flavours: tuple[str, ...]  # record flavours disseminated in this format


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", dcmod.OAI_DC_XSD, dcmod.OAI_DC_NS, ("marc21", "unimarc", "dc")),
    "marc21": MetadataFormat("marc21", marcxml.SLIM_XSD, marcxml.SLIM_NS, ("marc21",)),
    "marcxchange": MetadataFormat("marcxchange", marcxml.MARCXCHANGE_XSD, marcxml.MARCXCHANGE_NS, ("unimarc",)),
}


Payloads = dict[str, bytes | None]  # prefix -> payload as stored (see ``render``)


@dataclass
class Prepared:
    """A record ready to be stored: canonical source, its hash, display fields and match keys."""

    flavour: str
    source: str
    content_hash: str
    dc: dcmod.DublinCore | None  # None (with ``marc``) when prepared in another process: see ``render``
    marc: MarcRecord | None = None
    keys: list[tuple[str, str]] = field(default_factory=list)
    title: str = ""
    author: str = ""
    year: str = ""
    kind: str = ""
    language: str = ""
    control_number: str = ""  # 001, the preferred local identifier
    org_code: str = ""  # 003
    header_id: str | None = None  # a DC record's identifier in the OAI response it came from
    rendered: Payloads | None = None  # ``render``'s first result without files, for ``rendered_as``
    rendered_as: tuple[str, str] | None = None  # (local id, base URL)

    def local_ids(self) -> list[str]:
        """The local identifiers this record may take, preferred first: 001 then 003-001 (DC: its identifier)."""
        if self.flavour == "dc":
            first = self.dc.first("identifier") if self.dc else ""
            return [(self.header_id or first or f"rec-{self.content_hash[:16]}")[:240]]
        if not self.control_number:
            return [f"rec-{self.content_hash[:16]}"]
        out = [self.control_number[:240]]
        if self.org_code:
            out.append(f"{self.org_code}-{self.control_number}"[:240])
        return out


def _hash(flavour: str, source: str) -> str:
    return hashlib.sha256(f"{flavour}\n{source}".encode()).hexdigest()


def prepare_marc(rec: MarcRecord, flavour: str) -> Prepared:
    """Prepare a normalised MARC record (see ``marcxml.normalise``)."""
    source = marcxml.to_marcxml(rec)
    if flavour == "unimarc":
        dc, kind = crosswalk.unimarc_to_dc(rec), crosswalk.unimarc_kind(rec)
    else:
        dc, kind = crosswalk.marc21_to_dc(rec), crosswalk.marc21_kind(rec)
    content_hash = _hash(flavour, source)
    return Prepared(
        flavour=flavour,
        source=source,
        content_hash=content_hash,
        dc=dc,
        marc=rec,
        # every MARC key comes from the content, so two records with one content share their other
        # keys: the content hash is needed only by a record that has none
        keys=keymod.marc_keys(rec, flavour) or [("hash", content_hash)],
        **_display(dc, kind),
        control_number=(rec.control("001") or "").strip(),
        org_code=(rec.control("003") or "").strip(),
    )


def prepare_dc(dc: dcmod.DublinCore, header_id: str | None = None) -> Prepared:
    """Prepare a Dublin Core record."""
    source = dcmod.to_oai_dc(dc, schema=False)
    content_hash = _hash("dc", source)
    return Prepared(
        flavour="dc",
        source=source,
        content_hash=content_hash,
        dc=dc,
        keys=keymod.dc_keys(dc, header_id) + [("hash", content_hash)],
        **_display(dc, crosswalk.dc_kind(dc)),
        header_id=header_id,
    )


def prepare_source(flavour: str, source: str) -> Prepared:
    """Prepare a record from its stored canonical source (restoring a version, re-rendering)."""
    if flavour == "dc":
        return prepare_dc(dcmod.parse(source))
    return prepare_marc(marcxml.parse_record(source), flavour)


def _display(dc: dcmod.DublinCore, kind: str) -> dict[str, str]:
    return {
        "title": dc.first("title")[:2000],
        "author": dc.first("creator")[:1000],
        "year": crosswalk.year_of(dc),
        "kind": kind,
        "language": " ".join(dc.get("language")[:4])[:64],
    }


@dataclass(frozen=True)
class FileLink:
    """An open file of a record, as its disseminated metadata links to it."""

    name: str
    mime: str


def file_url(base_url: str, local_id: str, name: str) -> str:
    """The download URL of a record's file."""
    return f"{base_url}{record_path(local_id)}/files/{quote(name, safe='')}"


def render(prepared: Prepared, local_id: str, base_url: str, files: Sequence[FileLink] = ()) -> Payloads:
    """Every format the record is disseminated in, as its metadata payload is stored.

    A payload is stored as its bytes, or as None when it is the record's canonical source plus its
    schema location (a MARC 21 record without files): the record's MARCXML is then stored once, not
    twice, which is a third of an import's writes (bench/import.py); ``payload`` gives its bytes.
    Open files are linked (MARC 856 $u, a ``dc:identifier`` URL) in what is disseminated; the
    stored source stays as the cataloguer made it.  The first result without files is kept on
    ``prepared``: rendering it again for the same identifier and site is a read.
    """
    if not files and prepared.rendered is not None and prepared.rendered_as == (local_id, base_url):
        return prepared.rendered
    out = _render(prepared, local_id, base_url, files)
    if not files and prepared.rendered is None:
        prepared.rendered, prepared.rendered_as = out, (local_id, base_url)
    return out


def payload(stored: bytes | None, source: str) -> bytes:
    """The disseminated bytes of a payload as ``render`` gives it and the database stores it."""
    return stored if stored is not None else marcxml.with_schema_location(source).encode()


def _render(prepared: Prepared, local_id: str, base_url: str, files: Sequence[FileLink]) -> Payloads:
    if prepared.dc is None:  # prepared in another process, which kept only what is stored
        prepared = prepare_source(prepared.flavour, prepared.source)
    url = base_url + record_path(local_id)
    dc = prepared.dc.with_identifier(url)
    links = [file_url(base_url, local_id, f.name) for f in files]
    for link in links:
        dc.add("identifier", link)
    out: Payloads = {"oai_dc": dcmod.to_oai_dc(dc).encode()}
    if prepared.marc is not None:
        marc = prepared.marc
        if files:
            extra = [DataField("856", "4", "0", (("u", link), ("q", f.mime), ("y", f.name))) for f, link in
                     zip(files, links, strict=True)]  # fmt: skip
            marc = MarcRecord(marc.leader, [*marc.fields, *extra])
        if prepared.flavour == "marc21":
            # without files the payload is the source itself (``payload`` adds the schema location)
            out["marc21"] = marcxml.with_schema_location(marcxml.to_marcxml(marc)).encode() if files else None
        elif prepared.flavour == "unimarc":
            out["marcxchange"] = marcxml.marcxchange_fragment(marc).encode()
    return out
