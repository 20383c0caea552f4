"""Crosswalks, as pure functions: MARC 21 (after the Library of Congress MARC-to-DC crosswalk) and
UNIMARC to simple Dublin Core; Dublin Core to MARC 21 (after LoC's DC-to-MARC crosswalk); plus the
kind of material a record describes."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from repository.metadata.dc import DublinCore
from repository.metadata.identifiers import doi_of, normalise_isbn, normalise_issn
from repository.metadata.marc import ControlField, DataField, Field, MarcRecord

_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")


_CHOPPED = frozenset("/:;,=")  # ISBD punctuation that ends a field, beside spaces and a full stop


def _strip(text: str) -> str:
    """Drop the ISBD punctuation that ends a field (``Title /``, ``1894-1938.``), as LoC's chopPunctuation.

    Spaces and ``/ : ; , =`` go, and a full stop unless it closes an initial ("Е. И."), one character
    at a time from the end: patterns anchored at the end, searched again after each chop, took time
    quadratic in a value with a long run of spaces inside or many ". " at its end.
    """
    text = text.strip()
    end = len(text)
    while end:
        last = text[end - 1]
        if not (last.isspace() or last in _CHOPPED or (last == "." and not _closes_initial(text, end - 1))):
            break
        end -= 1
    return text[:end]


def _closes_initial(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` follows a word of one letter or digit (an initial: "И.")."""
    return dot >= 1 and _wordish(text[dot - 1]) and (dot == 1 or not _wordish(text[dot - 2]))


def _wordish(char: str) -> bool:
    return char.isalnum() or char == "_"  # what a pattern's \w matches


def _joined(f: DataField, codes: str, sep: str = " ") -> str:
    """Subfields ``codes`` joined by ``sep``; inner punctuation kept, the final one chopped."""
    values = [v for c, v in f.subfields if c in codes]
    if sep == " ":
        return _strip(" ".join([s for s in map(str.strip, values) if s]))
    return _strip(sep.join([_strip(v) for v in values if v.strip()]))


# ------------------------------------------------------------------------------------------ MARC 21

_MARC21_TYPES = {
    "a": "text", "t": "text", "e": "cartographic", "f": "cartographic", "c": "notated music",
    "d": "notated music", "i": "sound recording-nonmusical", "j": "sound recording-musical",
    "k": "still image", "g": "moving image", "r": "three dimensional object",
    "m": "software, multimedia", "p": "mixed material", "o": "kit",
}  # fmt: skip


def _isbn(f: DataField) -> str | None:
    a = f.get("a")
    return "URN:ISBN:" + _strip(a).split(" ")[0] if a else None


def _issn(f: DataField) -> str | None:
    a = f.get("a")
    return "URN:ISSN:" + _strip(a) if a else None


def _publisher(f: DataField) -> str | None:
    return None if f.tag == "264" and f.ind2 not in ("1", " ") else _joined(f, "ab")


def _pub_date(f: DataField) -> str | None:
    c = f.get("c")
    if not c or (f.tag == "264" and f.ind2 not in ("1", " ")):
        return None
    return _strip(c).strip("[]©c ")


def _link(f: DataField) -> str:
    return _joined(f, "ot") or _joined(f, "atgx", ". ")


Rule = tuple[str, Callable[[DataField], "str | None"]]


def _marc21_rules() -> dict[str, list[Rule]]:
    """Tag -> (DC element, value of the field) after the LoC MARC-to-DC crosswalk."""
    rules: dict[str, list[Rule]] = defaultdict(list)

    def on(tags: Iterable[str], element: str, fn: Callable[[DataField], str | None]) -> None:
        for tag in tags:
            rules[tag].append((element, fn))

    on(["245"], "title", lambda f: _joined(f, "abfghknps"))
    on(["100", "700"], "creator", lambda f: _joined(f, "abcdq"))
    on(["110", "111", "710", "711", "720"], "creator", lambda f: _joined(f, "abcdn"))
    on(["600", "610", "611", "630", "650"], "subject", lambda f: _joined(f, "abcdqvxyz", "--"))
    on(["653"], "subject", lambda f: _joined(f, "a"))
    on(["050", "060", "080", "082"], "subject", lambda f: _joined(f, "ab", ""))
    on([t for t in (f"5{n:02d}" for n in range(100)) if t not in ("506", "530", "540", "546")], "description",
       lambda f: _joined(f, "a"))  # fmt: skip
    on(["260", "264"], "publisher", _publisher)
    on(["260", "264"], "date", _pub_date)
    on(["655"], "type", lambda f: _joined(f, "a"))
    on(["856"], "format", lambda f: f.get("q"))
    on(["020"], "identifier", _isbn)
    on(["022"], "identifier", _issn)
    on(["024"], "identifier", lambda f: f.get("a"))
    on(["856"], "identifier", lambda f: f.get("u"))
    on(["530"], "relation", lambda f: _joined(f, "abcdu"))
    links = ["760", "762", "765", "767", "770", "772", "773", "774", "775", "776", "777", "780", "785", "786", "787"]
    on(links, "relation", _link)
    on(["651", "662", "752"], "coverage", lambda f: _joined(f, "abcdfgh", "--"))
    on(["043"], "coverage", lambda f: f.get("a"))
    on(["506", "540"], "rights", lambda f: _joined(f, "a"))
    on(["786"], "source", lambda f: _joined(f, "ot"))
    on(["534"], "source", lambda f: _joined(f, "t"))
    return dict(rules)


_MARC21_RULES = _marc21_rules()


def marc21_to_dc(rec: MarcRecord) -> DublinCore:
    """MARC 21 bibliographic record to simple Dublin Core (LoC MARC-to-DC crosswalk), in one pass."""
    dc = DublinCore()
    f008 = rec.control("008") or ""
    if len(f008) >= 38 and f008[35:38].strip(" |"):
        dc.add("language", f008[35:38])
    leader = rec.leader
    dc.add("type", _MARC21_TYPES.get(leader[6:7]))
    if leader[7:8] in ("c", "s"):
        dc.add("type", "collection")
    for f in rec.fields:
        if not isinstance(f, DataField):
            continue
        if f.tag == "041":
            for value in f.values("abdefghj"):
                for i in range(0, len(value) - 2, 3):  # packed codes: "engrus"
                    dc.add("language", value[i : i + 3])
            continue
        if f.tag == "502":
            dc.add("type", "thesis")
        for element, fn in _MARC21_RULES.get(f.tag, ()):
            dc.add(element, fn(f))
    if not dc.get("date") and len(f008) >= 11 and f008[7:11].isdigit():
        dc.add("date", f008[7:11])
    return dc


def marc21_kind(rec: MarcRecord) -> str:
    """book, serial, article, thesis, manuscript, music, map, ... from the leader and 502."""
    leader = rec.leader
    if rec.has("502"):
        return "thesis"
    if leader[6:7] in ("t", "d", "f"):
        return "manuscript"
    return _common_kind(leader[6:7], leader[7:8])


def _common_kind(type_code: str, level: str) -> str:
    if type_code in ("a", "b", "t"):
        return {"s": "serial", "a": "article", "b": "article", "i": "serial"}.get(level, "book")
    return {"c": "music", "d": "music", "e": "map", "f": "map", "g": "video", "i": "sound",
            "j": "sound", "k": "image", "m": "software", "r": "object"}.get(type_code, "other")  # fmt: skip


# ------------------------------------------------------------------------------------------ UNIMARC

_UNIMARC_TYPES = {
    "a": "text", "b": "text", "c": "notated music", "d": "notated music", "e": "cartographic",
    "f": "cartographic", "g": "moving image", "i": "sound recording-nonmusical",
    "j": "sound recording-musical", "k": "still image", "l": "software, multimedia",
    "m": "mixed material", "r": "three dimensional object",
}  # fmt: skip


def unimarc_to_dc(rec: MarcRecord) -> DublinCore:
    """UNIMARC bibliographic record to simple Dublin Core.

    200 title, 7XX names, 210/214 publication, 010/011 ISBN/ISSN, 101 language, 6XX subjects,
    675 UDC, 686 BBK, 3XX notes, 4XX links to the host item.
    """
    dc = DublinCore()
    for f in rec.datafields("200"):
        title = " : ".join(_strip(v) for v in f.values("ae") if v.strip())
        parts = [title] + [_strip(v) for v in f.values("hi") if v.strip()]
        dc.add("title", ". ".join(p for p in parts if p))
    for f in rec.datafields("700", "701", "710", "711"):
        dc.add("creator", _unimarc_name(f))
    for f in rec.datafields("702", "712"):
        dc.add("contributor", _unimarc_name(f))
    for f in rec.datafields("210", "214"):
        dc.add("publisher", _joined(f, "c"))
        if f.get("d"):
            dc.add("date", _strip(f.get("d") or "").strip("[]c "))
    if not dc.get("date"):
        f100 = rec.first("100", "a") or ""
        if len(f100) >= 13 and f100[9:13].isdigit():
            dc.add("date", f100[9:13])
    for f in rec.datafields("600", "601", "602", "604", "605", "606", "607", "608", "610", "615", "616", "617"):
        dc.add("subject", _joined(f, "abcdfjxyz", "--") if f.tag != "610" else _joined(f, "a"))
    for f in rec.datafields("675"):
        dc.add("subject", f"UDC {_strip(f.get('a') or '')}" if f.get("a") else None)
    for f in rec.datafields("686"):
        if f.get("a"):
            scheme = (f.get("2") or "").lower()
            label = "BBK" if "bbk" in scheme or not scheme else scheme
            dc.add("subject", f"{label} {_strip(f.get('a') or '')}")
    for f in rec.datafields("3XX"):
        dc.add("description", _joined(f, "a"))
    leader = rec.leader
    dc.add("type", _UNIMARC_TYPES.get(leader[6:7]))
    if leader[7:8] in ("c", "s"):
        dc.add("type", "collection")
    if rec.has("328"):
        dc.add("type", "thesis")
    for f in rec.datafields("010"):
        if f.get("a"):
            dc.add("identifier", "URN:ISBN:" + _strip(f.get("a") or "").split(" ")[0])
    for f in rec.datafields("011"):
        if f.get("a"):
            dc.add("identifier", "URN:ISSN:" + _strip(f.get("a") or ""))
    for f in rec.datafields("856"):
        dc.add("identifier", f.get("u"))
    for f in rec.datafields("101"):
        for value in f.values("a"):
            dc.add("language", value)
    for f in rec.datafields("4XX"):
        dc.add("relation", _unimarc_link_title(f))
    for f in rec.datafields("310"):
        dc.add("rights", _joined(f, "a"))
    return dc


def _unimarc_name(f: DataField) -> str:
    name = _strip(f.get("a") or "")
    rest = _strip(f.get("b") or "")
    dates = _strip(f.get("f") or "")
    out = f"{name}, {rest}" if rest else name
    return f"{out}, {dates}" if dates else out


def _unimarc_link_title(f: DataField) -> str | None:
    """Title of a linked item: subfield $t, or the 200$a embedded after $1 (embedded-fields technique)."""
    if f.get("t"):
        return _strip(f.get("t") or "")
    embedded = None
    for code, value in f.subfields:
        if code == "1":
            embedded = value[:3]
        elif code == "a" and embedded == "200":
            return _strip(value)
    return None


def unimarc_kind(rec: MarcRecord) -> str:
    """book, serial, article, thesis, manuscript, ... from the UNIMARC leader and 328."""
    leader = rec.leader
    if rec.has("328"):
        return "thesis"
    if leader[6:7] in ("b", "d", "f"):
        return "manuscript"
    return _common_kind(leader[6:7], leader[7:8])


# ------------------------------------------------------------------------------------------ any


def year_of(dc: DublinCore) -> str:
    """The first four-digit year among the dates."""
    for value in dc.get("date"):
        match = _YEAR.search(value)
        if match:
            return match.group(1)
    return ""


def dc_kind(dc: DublinCore) -> str:
    """The kind of material a Dublin Core record describes, from dc:type."""
    types = " ".join(dc.get("type")).lower()
    for word, kind in (("thesis", "thesis"), ("article", "article"), ("serial", "serial"),
                       ("journal", "serial"), ("manuscript", "manuscript"), ("book", "book"),
                       ("image", "image"), ("sound", "sound"), ("dataset", "dataset")):  # fmt: skip
        if word in types:
            return kind
    return "text" if "text" in types else "other"


# ------------------------------------------------------------------------------------------ DC to MARC 21
# After the Library of Congress "Dublin Core to MARC Crosswalk" (https://www.loc.gov/marc/dccross.html).
# Our Dublin Core records are simple DC (DCMES 1.1, no refinements), so each element takes its
# unqualified mapping, except where a value shows its encoding scheme, as the crosswalk allows: a URI
# identifier is an 856 link, an ISO 639-2 code a 041, a DCMI Type term a 655 with $2 dct.

DCCROSS_URL = "https://www.loc.gov/marc/dccross.html"
DCCROSS_PROCESS = "Dublin Core to MARC 21 after the Library of Congress crosswalk"


@dataclass(frozen=True)
class Conversion:
    """What a converted record says of itself: its control fields, and who converted it when (040, 884)."""

    control_number: str  # 001: the record's local identifier
    source_id: str  # 884 $k: the OAI identifier of the Dublin Core record converted
    entered: date  # 008/00-05: when the record came into the catalogue
    changed: datetime  # 005: when it last changed (UTC)
    converted: date  # 884 $g
    agency: str  # 040 $a and $c: the library's MARC organization code, or its name
    org_code: str = ""  # 003 and 884 $q, which take a MARC organization code only


# DCMI Type Vocabulary -> leader/06 (the crosswalk's notes)
_DCMI_TYPES = {
    "collection": "p", "dataset": "m", "event": "r", "image": "k", "interactiveresource": "m",
    "movingimage": "g", "physicalobject": "r", "service": "m", "software": "m", "sound": "i",
    "stillimage": "k", "text": "a",
}  # fmt: skip
_LANGUAGE_CODE = re.compile(r"[a-z]{3}")  # ISO 639-2
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})+|[a-z]{2}")  # RFC 4646 (BCP 47)
_URI = re.compile(r"(https?|ftp)://\S+$", re.IGNORECASE)


def _df(tag: str, ind: str, *subfields: tuple[str, str]) -> DataField:
    return DataField(tag, ind[0], ind[1], tuple(subfields))


def _leader(dc: DublinCore) -> str:
    """Leader/06 from the first DCMI type (a text when none), /07 from the kind of material."""
    types = [t.replace(" ", "").lower() for t in dc.get("type")]
    record_type = next((_DCMI_TYPES[t] for t in types if t in _DCMI_TYPES), "a")
    kind = dc_kind(dc)
    if record_type == "a" and kind == "manuscript":
        record_type = "t"
    level = "c" if "collection" in types else {"article": "a", "serial": "s"}.get(kind, "m")
    # encoding level 3 (abbreviated) and descriptive form u (unknown), as LoC's DC2MARC21slim writes them
    return f"00000n{record_type}{level} a22000003u 4500"


def _f008(dc: DublinCore, about: Conversion) -> str:
    year = year_of(dc)
    dates = f"s{year}    " if year else "nuuuuuuuu"  # single known date, or dates unknown
    codes = [v for v in dc.get("language") if _LANGUAGE_CODE.fullmatch(v)]
    language = codes[0] if codes else "|||"
    # place unknown (xx), the material-specific positions 18-34 not coded (fill), cataloguing source other
    return f"{about.entered:%y%m%d}{dates}xx {'|' * 17}{language} d"


def _identifiers(dc: DublinCore) -> tuple[list[DataField], list[str]]:
    """Standard numbers (020, 022, 024) and the links (856 $u) the dc:identifiers are."""
    fields, links = [], []
    for value in dc.get("identifier"):
        lower = value.lower()
        if _URI.match(value):
            links.append(value)
            if doi := doi_of(value):  # a doi.org link: the DOI is also the record's standard identifier
                fields.append(_df("024", "7 ", ("a", doi), ("2", "doi")))
        elif "isbn" in lower and normalise_isbn(value):
            fields.append(_df("020", "  ", ("a", value.split(":")[-1].strip())))
        elif "issn" in lower and normalise_issn(value):
            fields.append(_df("022", "  ", ("a", value.split(":")[-1].strip())))
        elif doi := doi_of(value):
            fields.append(_df("024", "7 ", ("a", doi), ("2", "doi")))
        else:
            fields.append(_df("024", "8 ", ("a", value)))
    return fields, links


def _languages(dc: DublinCore) -> list[DataField]:
    fields = []
    for value in dc.get("language"):
        if _LANGUAGE_CODE.fullmatch(value):
            fields.append(_df("041", "0 ", ("a", value)))
        elif _LANGUAGE_TAG.fullmatch(value):
            fields.append(_df("041", "07", ("a", value), ("2", "rfc4646")))
        else:
            fields.append(_df("546", "  ", ("a", value)))
    return fields


def _linked(tag: str, values: list[str]) -> list[DataField]:
    """Relation (787) and source (786) entries: a URI as other identifier ($o), anything else as a note ($n)."""
    return [_df(tag, "0 ", ("o" if _URI.match(v) else "n", v)) for v in values]


def _links(dc: DublinCore, urls: list[str]) -> list[DataField]:
    """856: a link per URI identifier, the first carrying the first format as its $q; other formats alone."""
    formats = dc.get("format")
    fields = []
    for i, url in enumerate(urls):
        subfields = [("u", url)] + ([("q", formats[0])] if i == 0 and formats else [])
        fields.append(DataField("856", "4", "0", tuple(subfields)))
    for value in formats[1:] if urls else formats:
        fields.append(_df("856", "  ", ("q", value)))
    return fields


def dc_to_marc21(dc: DublinCore, about: Conversion) -> MarcRecord:
    """A simple Dublin Core record as MARC 21 (LoC's DC-to-MARC crosswalk), marked as converted.

    042 ``dc`` and the 884 (description conversion information) say the record was converted, by
    which crosswalk and when; 040 names the library that did it.
    """
    controls: list[Field] = [ControlField("001", about.control_number)]
    if about.org_code:
        controls.append(ControlField("003", about.org_code))
    controls += [ControlField("005", f"{about.changed:%Y%m%d%H%M%S}.0"), ControlField("008", _f008(dc, about))]
    numbers, urls = _identifiers(dc)
    titles = dc.get("title")
    imprint = [("b", v) for v in dc.get("publisher")] + [("c", v) for v in dc.get("date")]
    fields: list[DataField] = [
        *numbers,
        _df("040", "  ", ("a", about.agency), ("c", about.agency)),
        *_languages(dc),
        _df("042", "  ", ("a", "dc")),
        *[_df("245" if i == 0 else "246", "00" if i == 0 else "33", ("a", t)) for i, t in enumerate(titles)],
        *([DataField("260", " ", " ", tuple(imprint))] if imprint else []),
        *[_df("500", "  ", ("a", v)) for v in dc.get("coverage")],
        *[_df("520", "  ", ("a", v)) for v in dc.get("description")],
        *[_df("540", "  ", ("a", v)) for v in dc.get("rights")],
        *[_df("653", "  ", ("a", v)) for v in dc.get("subject")],
        *[_df("655", " 7", ("a", v), ("2", "dct" if v.replace(" ", "").lower() in _DCMI_TYPES else "local"))
          for v in dc.get("type")],
        *[_df("720", "  ", ("a", v), ("e", "author")) for v in dc.get("creator")],
        *[_df("720", "  ", ("a", v)) for v in dc.get("contributor")],
        *_linked("786", dc.get("source")),
        *_linked("787", dc.get("relation")),
        *_links(dc, urls),
    ]  # fmt: skip
    conversion = [("a", DCCROSS_PROCESS), ("g", about.converted.isoformat()), ("k", about.source_id)]
    conversion += [("q", about.org_code)] if about.org_code else []
    fields.append(DataField("884", " ", " ", (*conversion, ("u", DCCROSS_URL))))
    fields.sort(key=lambda f: f.tag)  # stable: the order within a tag stays the crosswalk's
    return MarcRecord(_leader(dc), [*controls, *fields])
