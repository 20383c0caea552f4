"""Reading import files into a stream of incoming records, each parsed, validated or explained.

ISO 2709, MARCXML (collections, single records, records inside OAI-PMH responses) and Dublin Core
(``oai_dc:dc`` records, collections of them, saved ListRecords responses) are read as streams: memory
stays bounded whatever the file size.  Every record found becomes one ``Incoming``; one that cannot
be used carries the reason and its raw bytes, so it can be kept and fixed.
"""

from __future__ import annotations

import codecs
import io
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from repository.errors import KutubxonaError
from repository.metadata import dc as dcmod
from repository.metadata import marcxml
from repository.metadata.encoding import FileChoice, choose_for_file
from repository.metadata.marc import (
    NOT_CATALOGUED,
    VALID_TAG,
    ControlField,
    MarcError,
    MarcRecord,
    RawRecord,
    oversize,
    parse_iso2709,
    split_iso2709,
)
from repository.metadata.xmltext import ITERPARSE_SAFE, PROLOG_BYTES, XmlCleaner, doctype_refusal

SYNTAXES = ("auto", "iso2709", "marcxml", "dc")
FLAVOURS = ("auto", "marc21", "unimarc")


class UnreadableFile(KutubxonaError, ValueError):
    """The file is empty or in no format we read (nothing can be imported from it)."""


@dataclass(slots=True)
class Incoming:
    """One record found in a file, ready to be stored, or with the reason it cannot be."""

    position: int
    raw: bytes
    offset: int | None = None
    line: int | None = None
    flavour: str = ""
    marc: MarcRecord | None = None
    dc: dcmod.DublinCore | None = None
    header_id: str | None = None
    rejected: str | None = None
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """The most one record and one of its fields may take in an XML file (``KUTUBXONA_IMPORT_MAX_*``).

    ISO 2709 has its own: 99,999 bytes a record, 9,999 a field (``marc.oversize``).  A record past
    its limits is rejected with the reason and kept in the batch: a 50 MB title would make a
    157 MB record page and slow every search that finds it.
    """

    record: int = 1_000_000
    field: int = 100_000


def sniff(head: bytes) -> str:
    """``iso2709`` or ``xml`` from the first bytes of a file; raise ``UnreadableFile`` otherwise."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    if not text:
        raise UnreadableFile("the file is empty")
    if text.startswith(b"<"):
        return "xml"
    if text[:5].isdigit():
        return "iso2709"
    if text[:1] in (b"{", b"["):
        raise UnreadableFile("JSON (MARC-in-JSON) is not a format we import; use ISO 2709 or MARCXML")
    if text.startswith(b"=LDR"):
        raise UnreadableFile("MARCMaker text (.mrk) is not a format we import; use ISO 2709 or MARCXML")
    raise UnreadableFile("not ISO 2709, MARCXML or Dublin Core XML")


def read(
    stream: BinaryIO,
    syntax: str = "auto",
    flavour: str = "auto",
    encoding: str = "auto",
    file_page: str | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen
) -> Iterator[Incoming]:
    """Every record in ``stream``, in order, as ``Incoming``; raise ``UnreadableFile`` for a hopeless file.

    ``file_page`` is the code page of the file's 8-bit records (``code_page_of``); ``limits`` bound
    the records of an XML file.
    """
    head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
    if not head:
        head = stream.read(4096)
        stream.seek(0)
    kind = sniff(head)
    if syntax == "iso2709" and kind != "iso2709":
        raise UnreadableFile("--syntax iso2709 given, but the file is XML")
    if syntax in ("marcxml", "dc") and kind != "xml":
        raise UnreadableFile(f"--syntax {syntax} given, but the file is not XML")
    if kind == "iso2709":
        yield from _read_iso2709(stream, flavour, encoding, file_page)
    else:
        yield from _read_xml(stream, syntax, flavour, limits)


def _read_iso2709(stream: BinaryIO, flavour: str, encoding: str, file_page: str | None) -> Iterator[Incoming]:
    for raw in split_iso2709(stream):
        yield incoming_iso2709(raw, flavour, encoding, file_page)


def code_page_of(stream: BinaryIO) -> FileChoice:
    """The code page of an ISO 2709 file's 8-bit records, decided from all of them; the stream is rewound.

    A file whose bytes are all UTF-8 (ASCII included) and hold no MARC-8 escape is settled in one
    quick pass; the others are split into records and their field bytes weighed together.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    plain = True
    while plain and (chunk := stream.read(1 << 20)):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            plain = False
        plain = plain and b"\x1b" not in chunk
    stream.seek(0)
    if plain:
        return FileChoice(None, "every record is ASCII or UTF-8")
    choice = choose_for_file(_field_bytes(raw.data) for raw in split_iso2709(stream))
    stream.seek(0)
    return choice


def _field_bytes(data: bytes) -> bytes:
    """The fields of a raw record, after its leader and directory."""
    base = data[12:17]
    return data[int(base) :] if base.isdigit() else data[24:]


def incoming_iso2709(
    raw: RawRecord, flavour: str = "auto", encoding: str = "auto", file_page: str | None = None
) -> Incoming:
    """One ISO 2709 record as found in a file, parsed and validated, or with the reason it cannot be."""
    item = Incoming(raw.position, raw.data, offset=raw.offset, warnings=list(raw.warnings))
    item.rejected = oversize(raw.data)
    if item.rejected:
        return item
    try:
        decoded = parse_iso2709(raw.data, encoding, file_page)
    except MarcError as exc:
        item.rejected = str(exc)
        return item
    item.warnings.extend(decoded.warnings)
    check_marc(item, decoded.record, flavour, decoded.regular)
    return item


def detect_flavour(rec: MarcRecord) -> str:
    """``marc21`` or ``unimarc``, by where the title is: 245 (MARC 21) or 200 (UNIMARC)."""
    if rec.has("245"):
        return "marc21"
    if rec.has("200"):
        return "unimarc"  # even beside an 008 or 260: CIS systems add MARC 21 fields to UNIMARC
    return "marc21"


def check_marc(item: Incoming, rec: MarcRecord, flavour: str, regular: bool = False) -> None:
    """Validate a parsed MARC record; set ``item.marc`` or the reason it is rejected or skipped.

    ``regular``: the reader has already checked tags, indicators and subfield codes.
    """
    if not regular:
        bad = [f.tag for f in rec.fields if not VALID_TAG.match(f.tag)]
        if bad:
            item.rejected = f"invalid tag {bad[0]!r}"
            return
    item.flavour = detect_flavour(rec) if flavour == "auto" else flavour
    record_type = rec.leader[6:7]
    if record_type in NOT_CATALOGUED:
        item.skipped = f"{NOT_CATALOGUED[record_type]} (leader/06 {record_type!r}): not catalogued yet"
        return
    title_tag = "245" if item.flavour == "marc21" else "200"
    if not any(v.strip() for f in rec.datafields(title_tag) for v in f.values()):
        item.rejected = f"no title: required field {title_tag} is missing or empty"
        return
    item.marc = marcxml.normalise(rec, item.warnings, regular)
    if item.flavour == "unimarc":  # stored in UTF-8, so it says UTF-8 (100$a/26-29)
        item.marc = marcxml.declared_utf8(item.marc)


_OAI = "http://www.openarchives.org/OAI/2.0/"


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _read_xml(stream: BinaryIO, syntax: str, flavour: str, limits: Limits) -> Iterator[Incoming]:
    """MARC ``record`` and ``dc`` elements wherever they are; what XML 1.0 forbids is dropped with a warning.

    A forbidden character (U+000B in a title, a ``&#1;``) would end the parse, and with it every
    record after it.  It is removed before parsing, and the record whose lines held it (from its
    start to the next record's start) is warned, so nothing is lost silently.  A record that is not
    well-formed is rejected with its raw text, and reading goes on at the next one (``_recovered``).
    """
    head = stream.read(PROLOG_BYTES)
    stream.seek(0)
    refusal = doctype_refusal(head)
    if refusal:
        raise UnreadableFile(f"refused: {refusal}")
    cleaner = XmlCleaner(stream)
    held: Incoming | None = None
    root: list[str] = []  # the root element's name, as written
    try:
        for item in _xml_items(cleaner, syntax, flavour, limits, root):
            if held is not None:
                yield _warned(held, cleaner.removed, item.line)
            held = item
    except _Broken as broken:
        if held is not None:
            yield _warned(held, cleaner.removed, broken.line)
            held = None
        recovered = 0
        for item in _recovered(stream, broken, syntax, flavour, limits):
            recovered += 1
            yield item
        if broken.position == 0 and recovered == 0:
            raise UnreadableFile(f"XML is not well-formed at line {broken.line}: {broken.message}") from None
        return
    if held is None:
        raise UnreadableFile(f"no records found: {EXPECTED}; its root element is <{root[0] if root else '?'}>")
    yield _warned(held, cleaner.removed, None)


EXPECTED = ("expected MARCXML <record> elements, or Dublin Core: oai_dc:dc or srw_dc:dc elements, any element "
            "holding dc: or dcterms: elements, or DSpace's dublin_core.xml")  # fmt: skip


def _warned(item: Incoming, removed: dict[int, int], next_line: int | None) -> Incoming:
    """Add a warning for what was removed from ``item``'s lines (those before ``next_line``)."""
    lines = sorted(line for line in removed if next_line is None or line < next_line)
    if lines:
        count = sum(removed.pop(line) for line in lines)
        where = ", ".join(str(line) for line in lines[:10]) + (" ..." if len(lines) > 10 else "")
        item.warnings.append(f"{count} characters XML 1.0 forbids removed (line {where})")
    return item


def _xml_items(
    stream: XmlCleaner, syntax: str, flavour: str, limits: Limits, root: list[str] | None = None
) -> Iterator[Incoming]:
    """The records of an XML file, in order, as they are parsed; ``root`` is given the root element's name."""
    position = 0
    header_id: str | None = None
    header_deleted = False
    in_oai_record = payload_seen = False
    kind = ""  # the name of the elements that hold the records so far (an OAI response's: record)
    try:
        for event, elem in etree.iterparse(stream, events=("start", "end"), **ITERPARSE_SAFE):
            name = _local(elem.tag)
            if event == "start":
                if root is not None and not root:
                    root.append(f"{elem.prefix}:{name}" if elem.prefix else name)
                if name == "record" and _is_oai(elem):
                    in_oai_record, payload_seen, header_id, header_deleted = True, False, None, False
                continue
            if name == "header" and in_oai_record:
                header_id = _child_text(elem, "identifier")
                header_deleted = elem.get("status") == "deleted"
            elif name == "record" and _is_oai(elem):
                in_oai_record = False
                if header_deleted and not payload_seen:
                    position += 1
                    yield Incoming(
                        position,
                        etree.tostring(elem),
                        line=elem.sourceline,
                        skipped=f"deleted in its source repository ({header_id})",
                    )
                _release(elem)
            elif name == "record" and _looks_marc(elem):
                payload_seen, kind = True, "record"
                position += 1
                item = Incoming(position, etree.tostring(elem), line=elem.sourceline)
                if syntax == "dc":
                    item.skipped = "a MARCXML record in a file imported with --syntax dc"
                elif not _too_big(item, limits):
                    try:
                        record = marcxml.from_element(elem)
                        item.rejected = _too_long(limits, item.raw, _marc_fields(record))
                        if not item.rejected:
                            check_marc(item, record, flavour)
                    except MarcError as exc:
                        item.rejected = str(exc)
                yield item
                _release(elem)
            elif _holds_dublin_core(name, elem):
                payload_seen, kind = True, "record" if in_oai_record else name
                position += 1
                item = Incoming(
                    position,
                    etree.tostring(elem),
                    line=elem.sourceline,
                    flavour="dc",
                    header_id=header_id if in_oai_record else None,
                )
                if syntax == "marcxml":
                    item.skipped = "a Dublin Core record in a file imported with --syntax marcxml"
                elif not _too_big(item, limits):
                    dropped: list[str] = []
                    read_dc = dcmod.from_dspace if name == "dublin_core" else dcmod.from_element
                    record = read_dc(elem, dropped)
                    if dropped:
                        names = ", ".join(dict.fromkeys(dropped))
                        item.warnings.append(f"not kept: {names}, which no Dublin Core element holds")
                    item.rejected = _too_long(limits, item.raw, _dc_elements(record))
                    if not item.rejected and not record.get("title"):
                        item.rejected = "no title: dc:title is missing or empty"
                    item.dc = None if item.rejected else record
                yield item
                _release(elem)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        raise _Broken(position, line, exc.msg, kind) from None


def _too_big(item: Incoming, limits: Limits) -> bool:
    """Reject a record whose XML is longer than ``limits.record``, before its fields are read."""
    if len(item.raw) > limits.record:
        item.rejected = (f"record is {len(item.raw):,} bytes of XML; the most a record may take is "
                         f"{limits.record:,} (KUTUBXONA_IMPORT_MAX_RECORD)")  # fmt: skip
    return item.rejected is not None


def _too_long(limits: Limits, raw: bytes, fields: Iterator[tuple[str, int]]) -> str | None:
    """Why a field of a record is longer than ``limits.field``, or None."""
    if len(raw) <= limits.field:
        return None  # the XML holds a field's text and more (escaped, as character references)
    for name, size in fields:
        if size > limits.field:
            return (f"{name} is {size:,} bytes; the most a field may hold is {limits.field:,} "
                    "(KUTUBXONA_IMPORT_MAX_FIELD)")  # fmt: skip
    return None


def _marc_fields(record: MarcRecord) -> Iterator[tuple[str, int]]:
    """Each field's name and its length as ISO 2709 would count it (indicators, subfield codes, terminator)."""
    for f in record.fields:
        if type(f) is ControlField:
            yield f"field {f.tag}", len(f.data.encode()) + 1
        else:
            yield f"field {f.tag}", 3 + sum(2 + len(value.encode()) for _, value in f.subfields)


def _dc_elements(record: dcmod.DublinCore) -> Iterator[tuple[str, int]]:
    for name, values in record.values.items():
        for value, _ in values:
            yield f"dc:{name}", len(value.encode())


class _Broken(Exception):
    """The parse of a file broke after ``position`` records (held by ``kind`` elements), at ``line``."""

    def __init__(self, position: int, line: int, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.position, self.line, self.message, self.kind = position, line, message, kind


_START = re.compile(rb"<([A-Za-z_][\w.-]*+(?::[\w.-]++)?)")  # the root's start tag opens: not <?xml, not <!


def _recovered(stream: BinaryIO, broken: _Broken, syntax: str, flavour: str, limits: Limits) -> Iterator[Incoming]:
    """The records from where a parse broke, each parsed on its own: a broken one is rejected, not the rest.

    The file is read again as bytes (mapped, not loaded, when it is a file) and cut into its
    top-level record elements; each is parsed inside a copy of the root's start tag, so that its
    namespaces are known.  The first ``broken.position`` records were read already; they are
    counted, not located by line, because lxml may parse ahead of the records it has handed over.
    """
    data = _bytes_of(stream)
    try:
        yield from _each_record(data, broken, syntax, flavour, limits)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()


def _each_record(
    data: bytes | mmap.mmap, broken: _Broken, syntax: str, flavour: str, limits: Limits
) -> Iterator[Incoming]:
    root = _START.search(data)
    root_end = _tag_end(data, root)
    if root is None or root_end is None:
        return
    kind = broken.kind.encode() or (b"record" if re.search(rb"<(?:[\w.-]+:)?record(?=[\s/>])", data) else b"dc")
    head = data[root.start() : root_end]
    closing = b"</" + root.group(1) + b">"
    head_lines = head.count(b"\n")
    position = broken.position
    line, counted = 1, 0  # the line of byte ``counted``, advanced block by block
    for index, (start, end, whole) in enumerate(_top_level(data, kind, root_end, closing)):
        line += data[counted:start].count(b"\n")
        block = data[start:end]
        counted, block_line, line = end, line, line + block.count(b"\n")
        if index < broken.position:
            continue  # read before the break
        if not whole:  # the file ends inside it: a file cut short (a download or copy that stopped)
            position += 1
            reason = f"the file is cut short inside this record: it has no end tag </{kind.decode()}>"
            yield Incoming(position, block, line=block_line, rejected=reason)
            continue
        try:
            items = list(_xml_items(XmlCleaner(io.BufferedReader(io.BytesIO(head + block + closing))),
                                    syntax, flavour, limits))  # fmt: skip
        except (_Broken, UnreadableFile, etree.XMLSyntaxError) as exc:
            position += 1
            reason = exc.message if isinstance(exc, _Broken) else str(exc)
            yield Incoming(position, block, line=block_line, rejected=f"XML is not well-formed: {reason}")
            continue
        for item in items:
            position += 1
            item.position, item.line = position, block_line + max((item.line or 1) - 1 - head_lines, 0)
            yield item


def _bytes_of(stream: BinaryIO) -> bytes | mmap.mmap:
    try:
        return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        stream.seek(0)
        return stream.read()


def _top_level(data: bytes | mmap.mmap, kind: bytes, after: int, closing: bytes) -> Iterator[tuple[int, int, bool]]:
    """(start, end, whole) of each outermost ``kind`` element; nested ones of the same name are counted.

    A last element the file ends inside (it was cut short) comes last with ``whole`` False, from
    its start to the root's end tag (``closing``) or the end of the file, even when the file ends
    inside its start tag (``<rec`` or ``<record xmlns="...``).
    """
    tag = re.compile(rb"<(/?)((?:[\w.-]+:)?" + kind + rb")(?=[\s/>])")
    depth = start = 0
    last = after  # where the last whole element ended
    names = {kind}  # the element's names as written (with their prefix): a cut start tag begins like one
    while match := tag.search(data, after):
        closing_tag, name = match.groups()
        end = _tag_end(data, match)
        if end is None:  # the file ends inside this tag (no later tag has a '>' either)
            if depth == 0 and not closing_tag:
                start, depth = match.start(), 1
            break
        after = end
        if end - 2 >= match.end() and data[end - 2 : end - 1] == b"/":  # <record/>
            if depth == 0:
                yield match.start(), end, True
                last = end
            continue
        if not closing_tag:
            if depth == 0:
                start = match.start()
                names.add(name)
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                yield start, end, True
                last = end
    if depth == 0:
        cut = _CUT_TAG.search(data, max(last, len(data) - _LONGEST_CUT_TAG))
        if cut is None or not any(name.startswith(cut.group(1)) for name in names):
            return
        start = cut.start()
    end = data.find(closing, start)
    yield start, (end if end >= 0 else len(data)), False


_CUT_TAG = re.compile(rb"<([\w.:-]+)(?:[\s/][^<>]*)?\Z")  # a start tag the file ends inside
_LONGEST_CUT_TAG = 1 << 16


def _tag_end(data: bytes | mmap.mmap, opened: re.Match[bytes] | None) -> int | None:
    """Where the tag that ``opened`` matched the start of ends: just after the first '>' (None: it does not).

    Found apart from the tag's start: one pattern ending in ``[^>]*>`` searched a file of tags
    without '>' to its end from every '<' (quadratic); once one tag has no '>', no later one has.
    """
    end = data.find(b">", opened.end()) if opened is not None else -1
    return end + 1 if end >= 0 else None


def _is_oai(elem: etree._Element) -> bool:
    """An OAI-PMH ``record`` (namespaced, or a namespace-less response's child of ListRecords)."""
    if etree.QName(elem).namespace == _OAI:
        return True
    parent = elem.getparent()
    return parent is not None and _local(parent.tag) in ("ListRecords", "GetRecord")


def _looks_marc(elem: etree._Element) -> bool:
    ns = etree.QName(elem).namespace
    if ns == _OAI:
        return False
    return any(_local(c.tag) in ("leader", "controlfield", "datafield") for c in elem) or ns in (
        marcxml.SLIM_NS,
        marcxml.MARCXCHANGE_NS,
    )


def _holds_dublin_core(name: str, elem: etree._Element) -> bool:
    """A Dublin Core record: a ``dc`` element (oai_dc, srw_dc) of the fifteen elements, any element holding
    ``dc:`` or ``dcterms:`` elements, or DSpace's ``dublin_core`` of ``dcvalue`` elements."""
    if name == "dc" and any(_local(c.tag) in dcmod.ELEMENTS for c in elem):
        return True
    if name == "dublin_core":
        return any(_local(c.tag) == "dcvalue" for c in elem)
    return any(isinstance(c.tag, str) and c.tag.startswith(_DC_NAMESPACES) for c in elem)


_DC_NAMESPACES = (f"{{{dcmod.DC_NS}}}", f"{{{dcmod.DCTERMS_NS}}}")


def _child_text(elem: etree._Element, name: str) -> str | None:
    for child in elem:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _release(elem: etree._Element) -> None:
    """Free what has been read: the element's content and the siblings before it."""
    elem.clear(keep_tail=True)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]
