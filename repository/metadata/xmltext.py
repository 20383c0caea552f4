"""Text that is safe to put in XML 1.0, and the one safe lxml parser configuration."""

from __future__ import annotations

import re
import unicodedata
from typing import BinaryIO

from lxml import etree

# XML 1.0 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_CHARS = "\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"


def forbidden_chars(spared: str = "") -> re.Pattern[str]:
    """A pattern matching each character XML 1.0 forbids, except those in ``spared``."""
    return re.compile(f"[^{_XML_CHARS}{re.escape(spared)}]")


_ILLEGAL = forbidden_chars()
#: sparing U+001F: MARC's subfield delimiter, split on after decoding a whole field
ILLEGAL_BUT_SUBFIELD_MARK = forbidden_chars("\x1f")


def clean(text: str) -> tuple[str, int]:
    """NFC-normalise ``text`` and drop characters XML 1.0 forbids; return it and how many were dropped."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    elif text.isprintable():
        return text, 0  # printable ASCII: nothing to normalise, nothing illegal
    cleaned, dropped = _ILLEGAL.subn("", text)
    return cleaned, dropped


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (for data that may predate our checks)."""
    return _ILLEGAL.sub("", text)


def escape(text: str) -> str:
    """Escape ``text`` for element content or a double-quoted attribute."""
    # most values hold none of the four: testing with ``in`` skips four method calls (half the time
    # of a value); four C-level passes beat one translate() or a regex test for short texts and long
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text


def safe_parser(**options: object) -> etree.XMLParser:
    """An lxml parser that loads no DTD, resolves no entity and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        **options,
    )


PROLOG_BYTES = 1 << 20  # a DOCTYPE is read from the first MB of a file; one longer than that is refused
_LONGEST_ENTITY = 1000  # characters an entity may stand for: a named character or a phrase, not a book


def doctype_refusal(head: bytes) -> str | None:
    """Why the DOCTYPE at the start of an XML file is refused, or None when it has none or a harmless one.

    The parser never loads a DTD nor resolves an entity, but libxml2 still weighs entities built of
    entities (and stops the whole file with "Maximum entity amplification factor exceeded"), so a
    file is refused, in one line, when its DOCTYPE names an external DTD, declares an external or
    a parameter entity, an entity made of other entities (the "billion laughs" shape) or one
    longer than a phrase.  Nothing is ever fetched.  An entity for a character (``&nbsp;``) passes:
    its references are kept as written.
    """
    text = _as_text(head)
    start = _doctype_start(text)
    if start < 0:
        return None
    end = _doctype_end(text, start)
    if end is None:
        return f"its DOCTYPE does not end within the first {PROLOG_BYTES >> 20} MB"
    doctype = text[start:end]
    try:
        info = etree.fromstring(doctype + "<x/>", safe_parser()).getroottree().docinfo
    except etree.XMLSyntaxError:
        return None  # the parse of the file says what is wrong with it
    if info.system_url or info.public_id:
        return f"its DOCTYPE names an external DTD ({info.system_url or info.public_id}), which is never fetched"
    parameter = _PARAMETER_ENTITY.search(doctype)
    if parameter:
        return f"its DOCTYPE declares a parameter entity %{parameter.group(1)};, which is never read"
    dtd = info.internalDTD
    for entity in dtd.iterentities() if dtd is not None else ():
        if entity.system_url:
            return f"it declares an external entity &{entity.name}; ({entity.system_url}), which is never fetched"
        inner = _ENTITY_REFERENCE.search(entity.orig or "")
        if inner:
            return (f"it declares entities made of other entities (&{entity.name}; holds {inner.group(0)}), "
                    "the shape of an entity-expansion attack")  # fmt: skip
        if len(entity.orig or "") > _LONGEST_ENTITY:
            return f"it declares an entity &{entity.name}; of {len(entity.orig)} characters"
    return None


def _doctype_start(text: str) -> int:
    """Where the DOCTYPE starts, past the XML declaration, comments and processing instructions that may
    come before it (XML 1.0 2.8), or -1 when the document has none before its first element.

    Their text is not markup: a ``<a`` in a comment before the DOCTYPE is no first element (it let a
    DOCTYPE of entities through), and a DOCTYPE in a comment is none.
    """
    at = 0
    while (at := text.find("<", at)) >= 0:
        if text.startswith("<!--", at):
            at = text.find("-->", at + 4) + 3
        elif text.startswith("<?", at):
            at = text.find("?>", at + 2) + 2
        else:
            return at if text.startswith("<!DOCTYPE", at) else -1
        if at < 3:  # -1 plus the terminator's length: the comment or instruction does not end in what was read
            return -1
    return -1


_PARAMETER_ENTITY = re.compile(r"<!ENTITY\s+%\s*([^\s\"']+)")
_ENTITY_REFERENCE = re.compile(r"[&%][^#\s;&%]+;")


def _as_text(head: bytes) -> str:
    """The first bytes of a file as text good enough to find its markup (UTF-16 or any ASCII-based encoding)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:1] == b"\x00" or head[1:2] == b"\x00":
        bom = head[:2] in (b"\xff\xfe", b"\xfe\xff")
        codec = "utf-16" if bom else ("utf-16-be" if head[:1] == b"\x00" else "utf-16-le")
        return head[: len(head) // 2 * 2].decode(codec, "replace")
    return head.decode("latin-1")


def _doctype_end(text: str, start: int) -> int | None:
    """Where the DOCTYPE starting at ``start`` ends (after its ``>``), past quoted text and comments."""
    depth, quote, i = 0, "", start + len("<!DOCTYPE")
    while i < len(text):
        char = text[i]
        if quote:
            quote = "" if char == quote else quote
        elif text.startswith("<!--", i):
            close = text.find("-->", i + 4)
            if close < 0:
                return None
            i = close + 3
            continue
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ">" and depth <= 0:
            return i + 1
        i += 1
    return None


ITERPARSE_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True}


def element_text(element: etree._Element) -> str:
    """All the text inside ``element``: around comments and unresolved entity references too.

    ``element.text`` stops at the first comment or entity reference (``AT<!-- -->T`` is ``AT``);
    an entity reference we do not resolve is kept as it is written (``&nbsp;``).
    """
    return element.text or "" if len(element) == 0 else "".join(element.itertext())


# XML 1.0 forbids the C0 controls but TAB, LF and CR: one byte each in UTF-8 (and in any
# ASCII-compatible encoding), never part of a longer sequence, so they can be dropped as bytes
_FORBIDDEN_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))
_FORBIDDEN_BYTE = re.compile(b"[" + re.escape(_FORBIDDEN_BYTES) + b"]")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


class XmlCleaner:
    """A binary stream of XML without what XML 1.0 forbids: C0 controls and references to them.

    One such character would stop the parser, and with it every record after it in the file.
    ``removed`` counts what was dropped by line (1-based), so that the reader can warn the record
    that held it.  UTF-16 files (whose bytes are half zeros) are passed through as they are.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.removed: dict[int, int] = {}
        self._line = 1  # of the first byte not yet returned
        self._carry = b""  # an unfinished "&#..." at the end of the last read
        head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
        self._active = not (head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[1:2] == b"\x00" or head[:1] == b"\x00")

    def read(self, size: int = -1) -> bytes:
        """Up to about ``size`` bytes of cleaned XML; b"" only at the end of the stream."""
        while True:
            raw = self.stream.read(size if size and size > 0 else -1)
            data, self._carry = self._carry + raw, b""
            if not self._active or not data:
                return data
            amp = data.rfind(b"&", max(len(data) - 16, 0))
            if raw and amp != -1 and b";" not in data[amp:]:
                data, self._carry = data[:amp], data[amp:]  # a reference cut in two: finish it next time
            if _FORBIDDEN_BYTE.search(data) or b"&#" in data:
                data = self._clean(data)
            self._line += data.count(b"\n")
            if data or not raw:
                return data

    def _clean(self, data: bytes) -> bytes:
        spans = [m.span() for m in _FORBIDDEN_BYTE.finditer(data)]
        for m in _CHAR_REF.finditer(data):
            hex_digits, digits = m.groups()
            value = int(hex_digits, 16) if hex_digits else int(digits)
            if value > 0x10FFFF or _ILLEGAL.match(chr(value)):
                spans.append(m.span())
        if not spans:
            return data
        spans.sort()
        out, last = [], 0
        for start, end in spans:
            out.append(data[last:start])
            line = self._line + data.count(b"\n", 0, start)
            self.removed[line] = self.removed.get(line, 0) + 1
            last = end
        out.append(data[last:])
        return b"".join(out)
