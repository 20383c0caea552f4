"""MARCXML (MARC21slim) and MarcXchange (ISO 25577): writing records as strings, reading them with lxml."""

from __future__ import annotations

import threading
from functools import lru_cache

from lxml import etree

from repository.metadata.marc import (
    CODE_CHARS,
    INDICATOR_CHARS,
    ControlField,
    DataField,
    Field,
    MarcError,
    MarcRecord,
)
from repository.metadata.xmltext import clean, element_text, escape, safe_parser

SLIM_NS = "http://www.loc.gov/MARC21/slim"
SLIM_XSD = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
MARCXCHANGE_NS = "info:lc/xmlns/marcxchange-v2"
MARCXCHANGE_XSD = "http://www.loc.gov/standards/iso25577/marcxchange-2-0.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_LEADER_TAIL = "4500"
_CODE_ATTRIBUTE = {c: escape(c) for c in CODE_CHARS}  # a subfield code may be one of & < > "


@lru_cache(maxsize=4096)  # a file's records share a handful of leaders, lengths aside
def canonical_leader(leader: str) -> str:
    """The leader as stored: lengths zeroed (they belong to ISO 2709), UTF-8 (09 ``a``), 10-11 ``22``.

    Zeroing the lengths keeps a record's canonical form the same whichever encoding or syntax it
    arrived in, so that re-importing an export is ``unchanged``.
    """
    leader = (leader + " " * 24)[:24]
    chars = [c if c.isascii() and (c.isalnum() or c == " ") else " " for c in leader]
    chars[0:5] = "00000"
    chars[9] = "a"
    chars[10:12] = "22"
    chars[12:17] = "00000"
    chars[20:24] = _LEADER_TAIL
    return "".join(chars)


def normalise(record: MarcRecord, warnings: list[str], valid: bool = False) -> MarcRecord:
    """Make ``record`` valid MARCXML: canonical leader, control fields first, valid indicators and codes.

    Bad indicators become blanks and bad subfield codes ``_``, each with a warning; nothing else
    changes.  ``valid``: the indicators and codes are known to be valid already.
    """
    if valid and _controls_first(record.fields):
        return MarcRecord(canonical_leader(record.leader), record.fields, record._by_tag)
    controls: list[Field] = []
    datas: list[Field] = []
    bad_ind = bad_code = False
    for f in record.fields:
        if isinstance(f, ControlField):
            controls.append(f)
            continue
        if f.ind1 in INDICATOR_CHARS and f.ind2 in INDICATOR_CHARS and all(c in CODE_CHARS for c, _ in f.subfields):
            datas.append(f)  # the common case: nothing to repair
            continue
        ind1 = f.ind1 if f.ind1 in INDICATOR_CHARS else " "
        ind2 = f.ind2 if f.ind2 in INDICATOR_CHARS else " "
        bad_ind = bad_ind or (ind1, ind2) != (f.ind1, f.ind2)
        subs = tuple((c if c in CODE_CHARS else "_", v) for c, v in f.subfields)
        bad_code = bad_code or subs != f.subfields
        datas.append(DataField(f.tag, ind1, ind2, subs))
    if bad_ind:
        warnings.append("indicators outside [0-9a-z ] replaced by blanks")
    if bad_code:
        warnings.append("invalid subfield codes replaced by '_'")
    return MarcRecord(canonical_leader(record.leader), controls + datas)


def _controls_first(fields: list[Field]) -> bool:
    kinds = [type(f) is ControlField for f in fields]
    return kinds == sorted(kinds, reverse=True)


def to_marcxml(record: MarcRecord, namespace: str = SLIM_NS, schema: str | None = None, fmt: str = "") -> str:
    """Serialise a normalised record as one ``record`` element (MARC21slim or MarcXchange)."""
    attrs = f' xmlns="{namespace}"'
    if schema:
        attrs += f' xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{namespace} {schema}"'
    if fmt:
        attrs += f' format="{escape(fmt)}" type="Bibliographic"'
    parts = [f"<record{attrs}><leader>{escape(record.leader)}</leader>"]
    for f in record.fields:
        tag = f.tag if f.tag.isalnum() else escape(f.tag)
        if type(f) is ControlField:
            parts.append(f'<controlfield tag="{tag}">{escape(f.data)}</controlfield>')
            continue
        ind1 = f.ind1 if f.ind1 in INDICATOR_CHARS else escape(f.ind1)
        ind2 = f.ind2 if f.ind2 in INDICATOR_CHARS else escape(f.ind2)
        parts.append(f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">')
        parts += [
            f'<subfield code="{_CODE_ATTRIBUTE.get(c) or escape(c)}">{escape(v)}</subfield>' for c, v in f.subfields
        ]
        parts.append("</datafield>")
    parts.append("</record>")
    return "".join(parts)


def with_schema_location(source: str) -> str:
    """The ``marc21`` OAI payload from a stored canonical record: the same XML plus its schema location."""
    head = f'<record xmlns="{SLIM_NS}"'
    if not source.startswith(head):
        raise ValueError("not a canonical MARCXML record")
    return f'{head} xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{SLIM_NS} {SLIM_XSD}"' + source[len(head) :]


def marcxchange_fragment(record: MarcRecord) -> str:
    """The ``marcxchange`` OAI payload for a UNIMARC record (ISO 25577, format="UNIMARC"), in UTF-8."""
    return to_marcxml(declared_utf8(record), MARCXCHANGE_NS, MARCXCHANGE_XSD, fmt="UNIMARC")


UNIMARC_UTF8 = "50  "  # UNIMARC 100$a/26-29: character sets G0 and G1; 50 = ISO 10646 (UTF-8)


def declared_utf8(record: MarcRecord) -> MarcRecord:
    """A UNIMARC record whose 100$a/26-29 says UTF-8, as the text we hold and write is.

    A record from a RUSMARC cp1251 export says "89" (Windows-1251) there; written out in UTF-8 with
    that claim, another system would read it as cp1251 again.  The record itself when nothing changes.
    """
    fields = list(record.fields)
    for i, f in enumerate(fields):
        if f.tag != "100" or type(f) is ControlField:
            continue
        subfields = list(f.subfields)
        for j, (code, value) in enumerate(subfields):
            if code == "a" and len(value) >= 30 and value[26:30] != UNIMARC_UTF8:  # 36 fixed positions
                subfields[j] = ("a", value[:26] + UNIMARC_UTF8 + value[30:])
                fields[i] = DataField(f.tag, f.ind1, f.ind2, tuple(subfields))
                return MarcRecord(record.leader, fields)
    return record


def from_element(element: etree._Element) -> MarcRecord:
    """Read one MARCXML ``record`` element (any namespace or none); raise ``MarcError`` when malformed."""
    leader = ""
    fields: list[Field] = []
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(child).localname
        if name == "leader":
            leader = element_text(child)
        elif name == "controlfield":
            tag = child.get("tag")
            if tag is None:
                raise MarcError(f"controlfield without a tag at line {child.sourceline}")
            fields.append(ControlField(tag, _text(element_text(child))))
        elif name == "datafield":
            tag = child.get("tag")
            if tag is None:
                raise MarcError(f"datafield without a tag at line {child.sourceline}")
            subs = []
            for sub in child:
                if not isinstance(sub.tag, str) or etree.QName(sub).localname != "subfield":
                    continue
                code = sub.get("code")
                if code is None:
                    raise MarcError(f"subfield without a code in field {tag} at line {sub.sourceline}")
                subs.append((code, _text(element_text(sub))))
            fields.append(
                DataField(tag, child.get("ind1", " ")[:1] or " ", child.get("ind2", " ")[:1] or " ", tuple(subs))
            )
    if not leader:
        leader = "00000nam a2200000 a 4500"
    return MarcRecord(leader, fields)


def _text(text: str | None) -> str:
    return clean(text or "")[0]


_STORED = (f"{{{SLIM_NS}}}leader", f"{{{SLIM_NS}}}controlfield", f"{{{SLIM_NS}}}datafield")
_SUBFIELD = f"{{{SLIM_NS}}}subfield"
_DATAFIELD_ATTRIBUTES = ("tag", "ind1", "ind2")  # as to_marcxml writes them
_parsers = threading.local()  # an lxml parser serves one thread at a time


def parse_record(source: str) -> MarcRecord:
    """Parse a stored canonical MARCXML record.

    What we store was written by ``to_marcxml`` from cleaned values: MARC21slim elements alone,
    text already NFC and legal.  Read as such it takes half the time of ``from_element`` (most of
    a reindex, and of describing a page of hits); anything else found in it is read by
    ``from_element`` instead.
    """
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = safe_parser()
    element = etree.fromstring(source.encode("utf-8"), parser)
    leader_tag, control_tag, data_tag = _STORED
    leader, fields = "", []
    try:
        for child in element:
            tag = child.tag
            if tag == data_tag:
                # attributes by items(), not attrib[...]: no proxy object per element (5% of reading a
                # record); anything but the attributes to_marcxml writes, in its order, is not stored form
                subfields = []
                for sub in child:
                    ((name, code),) = sub.items()
                    if name != "code" or sub.tag != _SUBFIELD:
                        raise LookupError("not a stored subfield")
                    subfields.append((code, sub.text or ""))
                (k1, field_tag), (k2, ind1), (k3, ind2) = child.items()
                if (k1, k2, k3) != _DATAFIELD_ATTRIBUTES:
                    raise LookupError("not a stored datafield")
                fields.append(DataField(field_tag, ind1, ind2, tuple(subfields)))
            elif tag == control_tag:
                fields.append(ControlField(child.attrib["tag"], child.text or ""))
            elif tag == leader_tag:
                leader = child.text or ""
            else:
                raise LookupError("not a stored element")
    except (LookupError, ValueError):  # not in the form we store (ValueError: other attributes): every check
        return from_element(element)
    return MarcRecord(leader, fields) if leader else from_element(element)
