"""Dublin Core (DCMES 1.1): the value type, reading ``oai_dc:dc`` elements and writing oai_dc XML."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from repository.metadata.xmltext import clean, element_text, escape, safe_parser

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_XSD = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ELEMENTS = (
    "title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
    "format", "identifier", "source", "language", "relation", "coverage", "rights",
)  # fmt: skip
_ELEMENT_SET = frozenset(ELEMENTS)


@dataclass
class DublinCore:
    """Simple Dublin Core: each of the 15 elements holds ``(value, xml:lang or None)`` pairs in order."""

    values: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)

    def add(self, element: str, value: str | None, lang: str | None = None) -> None:
        """Append a value (ignoring empty ones and exact repeats)."""
        if element not in _ELEMENT_SET:
            raise ValueError(f"{element!r} is not a DCMES 1.1 element")
        if value is None:
            return
        value = " ".join(value.split())
        if not value:
            return
        items = self.values.setdefault(element, [])
        if (value, lang) not in items:
            items.append((value, lang))

    def get(self, element: str) -> list[str]:
        """The values of ``element``."""
        return [v for v, _ in self.values.get(element, [])]

    def first(self, element: str) -> str:
        """The first value of ``element``, or an empty string."""
        items = self.values.get(element)
        return items[0][0] if items else ""

    def with_identifier(self, url: str) -> DublinCore:
        """A copy with ``url`` added as a ``dc:identifier``."""
        copy = DublinCore({k: list(v) for k, v in self.values.items()})
        copy.add("identifier", url)
        return copy


def from_element(element: etree._Element) -> DublinCore:
    """Read an ``oai_dc:dc`` (or any container of dc:* elements)."""
    dc = DublinCore()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.namespace in (DC_NS, None) and qname.localname in ELEMENTS:
            dc.add(qname.localname, clean(element_text(child))[0], child.get(XML_LANG))
    return dc


def to_oai_dc(dc: DublinCore, schema: bool = True) -> str:
    """Serialise as one ``oai_dc:dc`` element, elements in DCMES order."""
    head = f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}"'
    if schema:
        head += f' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{OAI_DC_NS} {OAI_DC_XSD}"'
    parts = [head + ">"]
    for name in ELEMENTS:
        for value, lang in dc.values.get(name, []):
            attr = f' xml:lang="{escape(lang)}"' if lang else ""
            parts.append(f"<dc:{name}{attr}>{escape(value)}</dc:{name}>")
    parts.append("</oai_dc:dc>")
    return "".join(parts)


def parse(source: str) -> DublinCore:
    """Parse a stored canonical oai_dc record."""
    return from_element(etree.fromstring(source.encode("utf-8"), safe_parser()))
