"""Every element of a bibliographic description, by search field: MARC 21, UNIMARC/UZMARC and DC.

Search needs more than the Dublin Core crosswalk keeps: series, UDC and BBK class numbers, call
numbers, both forms of an ISBN, and the host item an article was published in.  ``describe``
reads them from the record itself; the tag tables follow Koha's and VuFind's MARC indexing
(MARC 21 Bibliographic; UNIMARC Bibliographic, 3rd edition).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from repository.metadata import dc as dcmod
from repository.metadata import marcxml
from repository.metadata.crosswalk import year_of
from repository.metadata.dc import DublinCore
from repository.metadata.formats import Prepared
from repository.metadata.identifiers import doi_key, doi_of, isbn_forms, normalise_isbn, normalise_issn
from repository.metadata.marc import ControlField, DataField, MarcRecord

_CONTROL_CODES = frozenset("0123456789")  # $0-$9: links, sources, field linkage: not description
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
# possessive spaces: else a run of spaces followed by more than one line was split every way (quadratic)
_ORG_PREFIX = re.compile(r"^\((?P<org>[^)]*)\)\s*+(?P<number>.+)$")


@dataclass(frozen=True)
class HostLink:
    """The item a record is part of (MARC 21 773; UNIMARC 461/463): its title, the part, its keys.

    ``keys`` are match keys (``metadata.keys``) the host record may carry: its control number,
    ISSN or ISBN; the catalogue resolves them whenever the host arrives.
    """

    title: str
    part: str
    keys: tuple[tuple[str, str], ...]


@dataclass
class Description:
    """A record's description by search field, in the record's own words."""

    fields: dict[str, list[str]] = field(default_factory=dict)  # search field -> values
    year: int | None = None
    languages: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # whole headings, for facets
    dois: list[str] = field(default_factory=list)  # the DOIs among the identifiers, for citations

    def add(self, name: str, value: str | None) -> None:
        """Add a value to a field (empty ones are skipped)."""
        value = (value or "").strip()
        if value:
            self.fields.setdefault(name, []).append(value)


def describe(prepared: Prepared) -> Description:
    """The description of a prepared record, by search field."""
    if prepared.marc is not None:
        return _marc(prepared.marc, prepared.flavour)
    return _dc(prepared.dc or DublinCore())


def describe_source(flavour: str, source: str) -> Description:
    """The description of a record from its stored source: parsed only (no rendering, keys or hash)."""
    if flavour == "dc":
        return _dc(dcmod.parse(source))
    return _marc(marcxml.parse_record(source), flavour)


def _marc(rec: MarcRecord, flavour: str) -> Description:
    out = _unimarc(rec) if flavour == "unimarc" else _marc21(rec)
    if out.year is None:  # no year in 008 or 100: the first one of the publication statement
        for f in rec.datafields("260", "264", "210"):
            year = _YEAR.search(" ".join(f.values("cd")))
            if year:
                out.year = int(year.group())
                break
    return out


def host_links(prepared: Prepared) -> list[HostLink]:
    """The host items of a MARC record (none for DC: dc:relation names a host, but has no key)."""
    if prepared.marc is None:
        return []
    if prepared.flavour == "unimarc":
        return [_unimarc_host(f) for f in prepared.marc.datafields("461", "463")]
    return [_marc21_host(f) for f in prepared.marc.datafields("773")]


def _text(f: DataField, codes: str | None = None, sep: str = " ") -> str:
    """The field's descriptive subfields (``codes``, or all but $0-$9) joined."""
    values = [v.strip() for c, v in f.subfields if (c in codes if codes else c not in _CONTROL_CODES)]
    return sep.join(v for v in values if v).strip(" /:;,=")


def _identifiers(out: Description, rec: MarcRecord, isbn_tags: str, issn_tags: str, other: str) -> None:
    out.add("identifier", rec.control("001"))
    for f in rec.datafields(*isbn_tags.split()):
        _isbn(out, f)
    for f in rec.datafields(*issn_tags.split()):
        _issn(out, f)
    for f in rec.datafields(*other.split()):
        _identifier(out, f.get("a"))


def _identifier(out: Description, value: str | None) -> None:
    """An identifier as written; a DOI also as one word (``doi_key``), so that a query finds it whole."""
    out.add("identifier", value)
    if value and (doi := doi_of(value)):
        out.add("identifier", doi_key(doi))
        out.dois.append(doi)


def _isbn(out: Description, f: DataField) -> None:
    """Both forms of each ISBN in $a (and a cancelled one in $z): a query for either finds the record."""
    for value in f.values("az"):
        for form in isbn_forms(value):
            out.add("isbn", form)


def _issn(out: Description, f: DataField) -> None:
    for value in f.values("ayz"):
        out.add("issn", normalise_issn(value))


def _doi_link(out: Description, f: DataField) -> None:
    """A DOI given as a link (856 $u https://doi.org/...): found by the DOI, as one in 024 (MARC 21) or 017."""
    for url in f.values("u"):
        _identifier(out, doi_of(url))


def _classification(out: Description, f: DataField, name: str) -> None:
    """UDC, BBK or another class number: BBK when its $2 says so (rubbk, bbk), else 'other'."""
    if name == "auto":
        name = "bbk" if "bbk" in (f.get("2") or "").lower() else "other"
    for value in f.values("a"):
        out.add(name, value)


# ------------------------------------------------------------------------------------------ MARC 21


def _marc21_rules() -> dict[str, Callable[[Description, DataField], None]]:
    """Tag -> what the field gives to the description (one pass over the record's fields)."""
    rules: dict[str, Callable[[Description, DataField], None]] = {}

    def on(tags: Iterable[str], rule: Callable[[Description, DataField], None]) -> None:
        rules.update(dict.fromkeys(tags, rule))

    def name(out: Description, f: DataField) -> None:
        out.add("author", _text(f, "abcdqn"))
        if f.get("t"):  # name/title added entries
            out.add("title", _text(f, "tnp"))

    def subject(out: Description, f: DataField) -> None:
        heading = _text(f, "abcdqtvxyz", " -- ")
        out.add("subject", heading)
        if heading and f.tag in _HEADINGS:
            out.subjects.append(heading)

    def host(out: Description, f: DataField) -> None:
        out.add("journal", _text(f, "tx"))
        out.add("journal", _text(f, "g"))

    on(("245", "246", "130", "222", "210", "242", "740"), lambda out, f: out.add("title", _text(f, "abnp")))
    on(("240",), lambda out, f: out.add("title", _text(f, "amnpr")))
    on(("100", "110", "111", "700", "710", "711", "720"), name)
    on((f"6{n:02d}" for n in range(100)), subject)
    on(("440", "490"), lambda out, f: out.add("series", _text(f, "anpv")))
    on(("800", "810", "811", "830"), lambda out, f: out.add("series", _text(f, "tv" if f.get("t") else "anpv")))
    on(("260", "264"), lambda out, f: out.add("publisher", _text(f, "abf")))
    on((f"5{n:02d}" for n in range(100)), lambda out, f: out.add("notes", _text(f)))
    on(("080",), lambda out, f: out.add("udc", _text(f, "ab", "")))
    on(("084",), lambda out, f: _classification(out, f, "auto"))
    on(("050", "082", "060"), lambda out, f: out.add("other", _text(f, "ab", "")))
    on(("090", "099", "852"), lambda out, f: out.add("callno", _text(f, "abhijk")))
    on(("773",), host)
    on(("020",), _isbn)
    on(("022",), _issn)
    on(("035", "024", "028"), lambda out, f: _identifier(out, f.get("a")))
    on(("856",), _doi_link)
    on(("041",), lambda out, f: out.languages.extend(_language_codes(f.values("abdh"))))
    return rules


def _language_codes(values: Iterable[str]) -> list[str]:
    """MARC 21 041: three-letter codes, several run together in one subfield in older records."""
    return [value[i : i + 3].lower() for value in values for i in range(0, len(value) - 2, 3)]


_HEADINGS = frozenset(("600", "610", "611", "630", "648", "650", "651", "653", "655"))  # subject facet values
_MARC21_RULES = _marc21_rules()


def _marc21(rec: MarcRecord) -> Description:
    # one pass over the fields, identifiers and 041 included: looking each tag up by the record's index
    # took a tenth of describing a record, which a reindex does for every one
    out = Description()
    controls = {f.tag: f.data for f in reversed(rec.fields) if isinstance(f, ControlField)}  # the first of each
    out.add("identifier", controls.get("001"))
    f008 = controls.get("008") or ""
    if len(f008) >= 11 and f008[7:11].isdigit():
        out.year = int(f008[7:11])
    if len(f008) >= 38 and f008[35:38].strip(" |"):
        out.languages.append(f008[35:38].lower())
    for f in rec.fields:
        rule = _MARC21_RULES.get(f.tag) if isinstance(f, DataField) else None
        if rule is not None:
            rule(out, f)
    out.languages = list(dict.fromkeys(out.languages))
    return out


def _marc21_host(f: DataField) -> HostLink:
    keys: list[tuple[str, str]] = []
    for w in f.values("w"):
        match = _ORG_PREFIX.match(w.strip())
        org, number = (match.group("org"), match.group("number")) if match else ("", w.strip())
        keys.append(("ctl", f"{org}|{number.strip()}"[:255]))
    for x in f.values("x"):
        if issn := normalise_issn(x):
            keys.append(("issn", issn))
    for z in f.values("z"):
        if isbn := normalise_isbn(z):
            keys.append(("isbn", isbn))
    return HostLink(_text(f, "ast"), _text(f, "gq"), tuple(dict.fromkeys(keys)))


# ------------------------------------------------------------------------------------------ UNIMARC


def _unimarc(rec: MarcRecord) -> Description:
    out = Description()
    for f in rec.datafields("200"):
        out.add("title", _text(f, "aehi"))
        out.add("author", _text(f, "fg", "; "))
    for f in rec.datafields("500", "510", "511", "512", "513", "514", "515", "516", "517", "518", "532", "540"):
        out.add("title", _text(f, "aehi"))
    for f in rec.datafields("700", "701", "702", "710", "711", "712", "720", "721", "722"):
        out.add("author", _text(f, "abcdfg"))
    for f in rec.datafields("600", "601", "602", "604", "605", "606", "607", "608", "610", "615", "616", "617"):
        heading = _text(f, "abcdfjxyz", " -- ")
        out.add("subject", heading)
        if heading:
            out.subjects.append(heading)
    for f in rec.datafields("225", "410", "411"):
        out.add("series", _text(f, "aehiv") if f.tag == "225" else f.get("t") or _unimarc_embedded(f, "200", "a"))
    for f in rec.datafields("210", "214"):
        out.add("publisher", _text(f, "acr"))
    for f in rec.datafields("3XX"):
        out.add("notes", _text(f))
    for f in rec.datafields("675"):
        out.add("udc", _text(f, "a"))
    for f in rec.datafields("686"):
        _classification(out, f, "auto")
    for f in rec.datafields("676", "680"):
        out.add("other", _text(f, "ab", ""))
    for f in rec.datafields("852", "899"):
        out.add("callno", _text(f, "abhijk"))
    _identifiers(out, rec, "010", "011", "035 017 020 022")
    for f in rec.datafields("856"):
        _doi_link(out, f)
    for f in rec.datafields("461", "463"):
        host = _unimarc_host(f)
        out.add("journal", host.title)
        out.add("journal", host.part)
        out.add("journal", next((v for k, v in host.keys if k == "issn"), None))
    f100 = rec.first("100", "a") or ""
    if len(f100) >= 13 and f100[9:13].isdigit():
        out.year = int(f100[9:13])
    for f in rec.datafields("101"):
        out.languages += [v.strip().lower() for v in f.values("a") if v.strip()]
    out.languages = list(dict.fromkeys(out.languages))
    return out


def _unimarc_embedded(f: DataField, tag: str, code: str | None) -> str:
    """A subfield of a field embedded after ``$1`` + tag; with ``code`` None, an embedded control field's data."""
    current = None
    for c, v in f.subfields:
        if c == "1":
            current = v[:3]
            if code is None and current == tag:
                return v[3:].strip()
        elif current == tag and c == code:
            return v
    return ""


def _unimarc_host(f: DataField) -> HostLink:
    """461/463 by either technique: standard subfields ($t $x $y $v $0) or embedded fields ($1)."""
    keys: list[tuple[str, str]] = []
    control = _unimarc_embedded(f, "001", None) or (f.get("0") or "")
    if control.strip():
        keys.append(("ctl", f"|{control.strip()}"[:255]))
    for issn_text in f.values("x") + [_unimarc_embedded(f, "011", "a")]:
        if issn := normalise_issn(issn_text):
            keys.append(("issn", issn))
    for isbn_text in f.values("y") + [_unimarc_embedded(f, "010", "a")]:
        if isbn := normalise_isbn(isbn_text):
            keys.append(("isbn", isbn))
    title = f.get("t") or _unimarc_embedded(f, "200", "a")
    part = " ".join(v for v in f.values("vhi") if v.strip()) or _unimarc_embedded(f, "200", "h")
    return HostLink(title.strip(), part.strip(), tuple(dict.fromkeys(keys)))


# ------------------------------------------------------------------------------------------ DC


def _dc(dc: DublinCore) -> Description:
    out = Description()
    for name, elements in (
        ("title", ("title",)),
        ("author", ("creator", "contributor")),
        ("subject", ("subject", "coverage")),
        ("publisher", ("publisher",)),
        ("notes", ("description",)),
        ("other", ("source", "format", "rights")),
    ):
        for element in elements:
            for value in dc.get(element):
                out.add(name, value)
    out.subjects = [s for s in dc.get("subject") if s.strip()]
    kinds = {t.lower() for t in dc.get("type")}
    for relation in dc.get("relation"):
        out.add("journal" if "article" in kinds else "other", relation)
    for ident in dc.get("identifier"):
        isbn = isbn_forms(ident) if "isbn" in ident.lower() or re.fullmatch(r"[\d\- ]{10,17}[\dXx]", ident) else []
        for form in isbn:
            out.add("isbn", form)
        issn = normalise_issn(ident) if "issn" in ident.lower() else None
        out.add("issn", issn)
        if not isbn and not issn:
            _identifier(out, ident)
    year = year_of(dc)
    out.year = int(year) if year.isdigit() else None
    out.languages = list(dict.fromkeys(v.strip().lower() for v in dc.get("language") if v.strip()))
    return out
