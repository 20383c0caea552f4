"""Dublin Core (DCMES 1.1): the value type, reading ``oai_dc:dc`` elements and writing oai_dc XML."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from repository.metadata.xmltext import clean, element_text, escape, safe_parser

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_XSD = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ELEMENTS = (
    "title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
    "format", "identifier", "source", "language", "relation", "coverage", "rights",
)  # fmt: skip
_ELEMENT_SET = frozenset(ELEMENTS)
# DCMI Metadata Terms: each of these properties refines (rdfs:subPropertyOf) one of the fifteen
# elements, so simple Dublin Core keeps its value under that element; the others (audience,
# provenance, rightsHolder...) refine none, and are named in a warning instead
REFINES = {
    "abstract": "description", "tableOfContents": "description", "alternative": "title",
    "available": "date", "created": "date", "dateAccepted": "date", "dateCopyrighted": "date",
    "dateSubmitted": "date", "issued": "date", "modified": "date", "valid": "date",
    "extent": "format", "medium": "format", "bibliographicCitation": "identifier",
    "accessRights": "rights", "license": "rights", "spatial": "coverage", "temporal": "coverage",
    "conformsTo": "relation", "hasFormat": "relation", "hasPart": "relation", "hasVersion": "relation",
    "isFormatOf": "relation", "isPartOf": "relation", "isReferencedBy": "relation", "isReplacedBy": "relation",
    "isRequiredBy": "relation", "isVersionOf": "relation", "references": "relation", "replaces": "relation",
    "requires": "relation",
}  # fmt: skip
# DSpace's own dates of an item (when it was deposited, when made public): after the others, so that
# a record's first date, its year, is the one it was issued or created
_DSPACE_LATE_DATES = {"accessioned", "available"}
_DSPACE_DROPPED = {("description", "provenance")}  # DSpace's log of the item's workflow: not a description


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


def from_element(element: etree._Element, dropped: list[str] | None = None) -> DublinCore:
    """Read an ``oai_dc:dc``, ``srw_dc:dc`` or any container of ``dc:`` and ``dcterms:`` elements.

    A DCMI term that refines one of the fifteen elements is kept under it (``dcterms:abstract`` is a
    description); the names of the elements that cannot be kept are added to ``dropped``.
    """
    dc = DublinCore()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        name = qname.localname
        if qname.namespace in (DC_NS, None) and name in _ELEMENT_SET:
            dc.add(name, clean(element_text(child))[0], child.get(XML_LANG))
        elif qname.namespace == DCTERMS_NS and (name in _ELEMENT_SET or name in REFINES):
            dc.add(REFINES.get(name, name), clean(element_text(child))[0], child.get(XML_LANG))
        elif dropped is not None and qname.namespace in (DC_NS, DCTERMS_NS):
            dropped.append(("dc:" if qname.namespace == DC_NS else "dcterms:") + name)
    return dc


def from_dspace(element: etree._Element, dropped: list[str] | None = None) -> DublinCore:
    """Read a DSpace ``dublin_core`` element (Simple Archive Format): ``dcvalue`` elements named by attributes.

    ``schema="dc"`` (the default) holds DSpace's qualified Dublin Core, ``schema="dcterms"`` DCMI
    terms; the author (``contributor.author``) is the creator, as in DSpace's own oai_dc.
    """
    schema = element.get("schema", "dc")
    dc = DublinCore()
    late: list[tuple[str, str | None]] = []
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).localname != "dcvalue":
            continue
        name, qualifier = child.get("element", ""), child.get("qualifier") or "none"
        value, lang = clean(element_text(child))[0], child.get("language") or None
        if schema == "dcterms":
            target = REFINES.get(name, name if name in _ELEMENT_SET else None)
        elif schema == "dc" and (name, qualifier) not in _DSPACE_DROPPED:
            target = "creator" if (name, qualifier) == ("contributor", "author") else name
            target = target if target in _ELEMENT_SET else None
        else:
            target = None
        if target is None:
            if dropped is not None:
                dropped.append(".".join([schema, name] + ([qualifier] if qualifier != "none" else [])))
        elif target == "date" and qualifier in _DSPACE_LATE_DATES:
            late.append((value, lang))
        else:
            dc.add(target, value, lang)
    for value, lang in late:
        dc.add("date", value, lang)
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
