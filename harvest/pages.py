"""Parsing OAI-PMH responses as harvested: safely, leniently, and record by record when need be.

A page that lxml cannot parse whole (one record with a character XML 1.0 forbids, one broken tag)
is cut into its top-level ``record``/``header`` blocks, and each block is parsed on its own: the
good ones are kept, the bad ones set aside with the reason, and the rest of the page is not lost.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from dataclasses import dataclass, field

from lxml import etree

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
# loads no DTD, resolves no entity and never touches the network: a harvested page is untrusted input
# (the same settings as repository.metadata.xmltext.safe_parser; this client imports nothing of ours)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=True)
_ROOT_OPEN = re.compile(rb"<(?:[\w.-]+:)?OAI-PMH\b[^>]*>")
_TAG = re.compile(rb"<(/?)((?:[\w.-]+:)?)(record|header)\b[^>]*?(/?)>")
_ENVELOPE_TEXT = {
    "responseDate": re.compile(rb"<(?:[\w.-]+:)?responseDate[^>]*>([^<]*)<"),
}
_TOKEN = re.compile(rb"<((?:[\w.-]+:)?)resumptionToken\b([^>]*?)(/>|>([^<]*)</\1resumptionToken>)")
_ATTR = re.compile(rb'([\w-]+)\s*=\s*"([^"]*)"')


@dataclass
class Record:
    """A harvested record (or, from ListIdentifiers, a header alone)."""

    identifier: str
    datestamp: str
    deleted: bool = False
    set_specs: list[str] = field(default_factory=list)
    metadata: etree._Element | None = None  # the one element inside <metadata>
    about: list[etree._Element] = field(default_factory=list)  # the element inside each <about>


@dataclass
class SetAside:
    """A record of a page that could not be read, kept with the reason."""

    position: int  # 1-based within the page
    reason: str
    raw: bytes


@dataclass
class Page:
    """One OAI-PMH response."""

    response_date: str = ""
    error: tuple[str, str] | None = None  # (code, message) of the first error
    records: list[Record] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)
    sets: list[tuple[str, str]] = field(default_factory=list)  # ListSets: (spec, name)
    token: str | None = None  # None: no resumptionToken element; "": an empty one (the list is complete)
    complete_size: int | None = None
    cursor: int | None = None
    root: etree._Element | None = None  # the whole document, when it parsed in one piece


MAX_BODY = 100 * 1024 * 1024  # bytes of one response after decompression


def unwrap(body: bytes, limit: int = MAX_BODY) -> bytes:
    """Undo compression the server did not announce, and drop a byte order mark.

    Decompression stops at ``limit`` bytes: a larger body raises ``ValueError`` (a gzip bomb
    would otherwise fill the memory).
    """
    if body[:2] == b"\x1f\x8b":
        body = _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), body, limit)
    elif body[:1] == b"\x78" and body[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
        with contextlib.suppress(zlib.error):  # not zlib after all: leave the bytes as they are
            body = _inflate(zlib.decompressobj(), body, limit)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    return body


def _inflate(inflater: zlib._Decompress, body: bytes, limit: int) -> bytes:
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit:
        raise ValueError(f"the response is over {limit // (1024 * 1024)} MB once decompressed")
    return out


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _text(el: etree._Element, name: str) -> str:
    found = _children(el, name)
    return (found[0].text or "").strip() if found else ""


def looks_like_oai(body: bytes) -> bool:
    """True when the body holds an OAI-PMH root element."""
    return _ROOT_OPEN.search(body[:4096]) is not None


def parse_page(body: bytes) -> Page:
    """Parse one response; raise ``ValueError`` when it is not OAI-PMH at all."""
    body = unwrap(body)
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        page = _parse_in_pieces(body)
        if page.error is None and not page.records and not page.set_aside:
            # nothing could be salvaged (a broken Identify, a page of no records): say where it breaks
            line = exc.position[0] if exc.position else "?"
            raise ValueError(f"not well-formed XML at line {line}: {exc.msg}") from None
        return page
    if _local(root) != "OAI-PMH":
        raise ValueError(f"not an OAI-PMH response (root element {root.tag!r})")
    page = Page(response_date=_text(root, "responseDate"), root=root)
    errors = _children(root, "error")
    if errors:
        page.error = (errors[0].get("code", ""), (errors[0].text or "").strip())
        return page
    for verb_el in root:
        name = _local(verb_el)
        if name in ("ListRecords", "GetRecord", "ListIdentifiers"):
            tag = "header" if name == "ListIdentifiers" else "record"
            for position, el in enumerate(_children(verb_el, tag), 1):
                _add(page, el, position, etree.tostring(el))
        elif name == "ListSets":
            page.sets = [(_text(s, "setSpec"), _text(s, "setName")) for s in _children(verb_el, "set")]
        tokens = _children(verb_el, "resumptionToken")
        if tokens:
            _set_token(page, tokens[0].text or "", tokens[0].attrib)
    return page


def _add(page: Page, el: etree._Element, position: int, raw: bytes) -> None:
    try:
        page.records.append(_record(el))
    except ValueError as exc:
        page.set_aside.append(SetAside(position, str(exc), raw))


def _record(el: etree._Element) -> Record:
    """A record from a ``record`` or ``header`` element; raise ``ValueError`` when it lacks what it must have."""
    header = el if _local(el) == "header" else next(iter(_children(el, "header")), None)
    if header is None:
        raise ValueError("a record without a header")
    identifier = _text(header, "identifier")
    if not identifier:
        raise ValueError("a header without an identifier")
    rec = Record(
        identifier=identifier,
        datestamp=_text(header, "datestamp"),
        deleted=header.get("status") == "deleted",
        set_specs=[(s.text or "").strip() for s in _children(header, "setSpec")],
    )
    if el is not header and not rec.deleted:
        metadata = _children(el, "metadata")
        payload = [c for c in metadata[0] if isinstance(c.tag, str)] if metadata else []
        if len(payload) != 1:
            raise ValueError(f"{identifier}: a record needs exactly one element in <metadata>")
        rec.metadata = payload[0]
        for about in _children(el, "about"):
            rec.about.extend(c for c in about if isinstance(c.tag, str))
    return rec


def _set_token(page: Page, text: str, attrs: dict) -> None:
    page.token = text.strip()
    for name, target in (("completeListSize", "complete_size"), ("cursor", "cursor")):
        value = attrs.get(name)
        if value is not None and str(value).strip().isdigit():
            setattr(page, target, int(value))


def _parse_in_pieces(body: bytes) -> Page:
    """The page did not parse whole: read its envelope with patterns and each record on its own."""
    root_open = _ROOT_OPEN.search(body)
    if root_open is None:
        raise ValueError("not an OAI-PMH response (no OAI-PMH element, or not XML)")
    page = Page()
    date = _ENVELOPE_TEXT["responseDate"].search(body)
    page.response_date = date.group(1).decode("utf-8", "replace").strip() if date else ""
    error = re.search(rb'<(?:[\w.-]+:)?error\b[^>]*code="([^"]*)"[^>]*>([^<]*)', body)
    if error:
        page.error = (error.group(1).decode(), error.group(2).decode("utf-8", "replace").strip())
        return page
    token = _TOKEN.search(body)
    if token:
        attrs = {k.decode(): v.decode() for k, v in _ATTR.findall(token.group(2))}
        _set_token(page, (token.group(4) or b"").decode("utf-8", "replace"), attrs)
    wrapper = root_open.group(0)
    if wrapper.endswith(b"/>"):
        return page
    closing = b"</" + wrapper[1:].split()[0].rstrip(b">") + b">"
    verb = re.search(rb"<(?:[\w.-]+:)?(ListRecords|ListIdentifiers|GetRecord)\b", body)
    kind = b"header" if verb and verb.group(1) == b"ListIdentifiers" else b"record"
    for position, block in enumerate(_top_level_blocks(body, kind), 1):
        try:
            doc = etree.fromstring(wrapper + block + closing, _PARSER)
            _add(page, doc[0], position, block)
        except etree.XMLSyntaxError as exc:
            page.set_aside.append(SetAside(position, f"not well-formed XML: {exc.msg}", block))
    return page


def _top_level_blocks(body: bytes, kind: bytes) -> list[bytes]:
    """The outermost ``kind`` elements (``record``, or ``header`` in ListIdentifiers) of a page, as bytes.

    Nested elements of the same name (a MARCXML ``record`` inside an OAI ``record``) are counted, so
    a block ends at its own closing tag.
    """
    blocks: list[bytes] = []
    depth, start = 0, 0
    for match in _TAG.finditer(body):
        closing, _prefix, name, empty = match.groups()
        if name != kind:
            continue
        if depth == 0:
            if not closing and not empty:
                depth, start = 1, match.start()
            continue
        if closing:
            depth -= 1
            if depth == 0:
                blocks.append(body[start : match.end()])
        elif not empty:
            depth += 1
    return blocks
