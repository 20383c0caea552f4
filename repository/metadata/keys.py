"""Match keys of a record: what tells that an incoming record is one we already hold.

Kinds, strongest first: ``ctl`` (001 with 003), ``035`` (system control number), ``isbn``
(normalised to ISBN-13), ``issn``, ``dcid`` (a DC record's identifier), ``hash`` (the canonical
content; lets a record without identifiers be re-imported as ``unchanged``; a DC record always has
it, as its OAI header identifier is not part of its content).
"""

from __future__ import annotations

from repository.metadata.dc import DublinCore
from repository.metadata.identifiers import normalise_isbn, normalise_issn
from repository.metadata.marc import MarcRecord

ORDER = ("ctl", "035", "isbn", "issn", "dcid", "hash")

#: ``--match`` names of the kinds, strongest first; the default uses them all
MATCH_KINDS = {"control": "ctl", "035": "035", "isbn": "isbn", "issn": "issn", "identifier": "dcid", "content": "hash"}
MATCH_DEFAULT = tuple(MATCH_KINDS)


def parse_match(value: str) -> tuple[str, ...]:
    """``control,035,isbn`` -> the key kinds to match by, in the order given; ValueError names a bad one."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in MATCH_KINDS]
    if unknown or not names:
        raise ValueError(f"--match takes {', '.join(MATCH_KINDS)} (comma-separated), not {value!r}")
    return tuple(dict.fromkeys(MATCH_KINDS[n] for n in names))


def marc_keys(rec: MarcRecord, flavour: str) -> list[tuple[str, str]]:
    """Match keys of a MARC 21 or UNIMARC record."""
    keys: list[tuple[str, str]] = []
    control = (rec.control("001") or "").strip()
    if control:
        org = (rec.control("003") or "").strip()
        keys.append(("ctl", f"{org}|{control}"[:255]))
    for f in rec.datafields("035"):
        value = (f.get("a") or "").strip()
        if value:
            keys.append(("035", value[:255]))
    isbn_tag, issn_tag = ("010", "011") if flavour == "unimarc" else ("020", "022")
    for f in rec.datafields(isbn_tag):
        isbn = normalise_isbn(f.get("a") or "")
        if isbn:
            keys.append(("isbn", isbn))
    for f in rec.datafields(issn_tag):
        issn = normalise_issn(f.get("a") or "")
        if issn:
            keys.append(("issn", issn))
    return _unique(keys)


def dc_keys(dc: DublinCore, header_id: str | None) -> list[tuple[str, str]]:
    """Match keys of a Dublin Core record: its OAI header identifier and dc:identifiers, ISBNs."""
    keys: list[tuple[str, str]] = []
    if header_id:
        keys.append(("dcid", header_id[:255]))
    for ident in dc.get("identifier"):
        keys.append(("dcid", ident[:255]))
        if "isbn" in ident.lower():
            isbn = normalise_isbn(ident)
            if isbn:
                keys.append(("isbn", isbn))
    return _unique(keys)


def _unique(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(keys))
