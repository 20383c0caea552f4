"""Text that is safe to put in XML 1.0, and the one safe lxml parser configuration."""

from __future__ import annotations

import re
import unicodedata

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


ITERPARSE_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True}
