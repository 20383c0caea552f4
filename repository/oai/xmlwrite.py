"""Writing OAI-PMH responses as bytes, splicing stored metadata payloads in without parsing them.

Every piece of text and every attribute value goes through ``text``/``attrs`` (characters XML 1.0
forbids removed, markup escaped); payloads are well-formed XML that Kutubxona itself serialised at
write time, and ``payload`` strips any forbidden character old data may still hold.  The tests
parse and schema-validate every response they receive.
"""

from __future__ import annotations

from datetime import datetime

from repository.metadata.xmltext import escape, xml_safe

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_XSD = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{OAI_NS} {OAI_XSD}">'
).encode()
TAIL = b"</OAI-PMH>\n"

# In UTF-8, C0 controls are single bytes and U+FFFE/U+FFFF are EF BF BE/BF, bytes no other character's
# encoding contains; lone surrogates cannot be encoded by Python at all.
_FORBIDDEN_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def text(value: str) -> str:
    """Element content: forbidden characters removed, markup escaped."""
    return escape(xml_safe(value))


def attrs(values: dict[str, str | int | None]) -> str:
    """`` name="value"`` for each value that is not None."""
    return "".join(f' {name}="{text(str(value))}"' for name, value in values.items() if value is not None)


def element(tag: str, value: str | None = None, **attributes: str | int | None) -> str:
    """``<tag attr="...">value</tag>`` (empty element when ``value`` is None)."""
    if value is None:
        return f"<{tag}{attrs(attributes)}/>"
    return f"<{tag}{attrs(attributes)}>{text(value)}</{tag}>"


def payload(xml: bytes) -> bytes:
    """A stored metadata payload, without characters XML 1.0 forbids (old data may hold some)."""
    # on every record served: each step hands back the same object when it finds nothing to remove,
    # and the three cost a quarter of one regular-expression search of the payload
    return xml.translate(None, _FORBIDDEN_CONTROLS).replace(b"\xef\xbf\xbe", b"").replace(b"\xef\xbf\xbf", b"")


def utc(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` (OAI-PMH 3.3: UTC, seconds, no fraction, no offset)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
