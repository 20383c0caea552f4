"""Citations of records for reference managers: RIS, BibTeX and CSL-JSON.

A ``Citation`` is read from a record's Dublin Core and its description (``description.describe``),
so MARC 21, UNIMARC and DC records cite alike.  An article's journal, volume, issue and pages come
from its host link (773 $t/$g; UNIMARC 461/463), the part read with the usual abbreviations in the
four interface languages (vol./т./jild, no./№/son, p./с./b.).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from repository.metadata.description import describe
from repository.metadata.formats import Prepared

# the kinds of the catalogue (crosswalk.marc21_kind, dc_kind) in each format's vocabulary
_RIS = {"book": "BOOK", "article": "JOUR", "serial": "SER", "thesis": "THES", "manuscript": "MANSCPT",
        "map": "MAP", "music": "MUSIC", "video": "VIDEO", "sound": "SOUND", "image": "ART", "software": "COMP",
        "dataset": "DATA"}  # fmt: skip
_BIBTEX = {"book": "book", "article": "article", "thesis": "phdthesis", "serial": "periodical"}
_CSL = {"book": "book", "article": "article-journal", "serial": "periodical", "thesis": "thesis",
        "manuscript": "manuscript", "map": "map", "music": "musical_score", "video": "motion_picture",
        "sound": "song", "image": "graphic", "software": "software", "dataset": "dataset"}  # fmt: skip
_VOLUME = re.compile(r"(?:vol|v|т|том|jild|j)\.?\s*(\d+)", re.IGNORECASE)
_ISSUE = re.compile(r"(?:no|n|№|nr|вып|son|issue)\.?\s*(\d+)", re.IGNORECASE)
_PAGES = re.compile(r"(?:pp?|с|s|b|бет)\.?\s*(\d+(?:\s*[-–]\s*\d+)?)", re.IGNORECASE)
# TeX's special characters in a BibTeX value; braces and the backslash as commands, not \{ \} \\: BibTeX counts
# every brace, escaped or not, so one "}" in a value ended its entry, and what followed became fields
_BIBTEX_SPECIAL = re.compile(r"[{}\\&%$#_~^]")
_TEX = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}", "\\": r"\textbackslash{}", "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}"}  # fmt: skip
# a verbatim field (a URL, a DOI) cannot escape: its braces and backslashes are percent-encoded, as a URL
# writes them (https://doi.org/ resolves 10.1000/a%7Db as 10.1000/a}b), and so are spaces
_VERBATIM_UNSAFE = re.compile(r"[{}\\\s]")
_AND = re.compile(r"\band\b", re.IGNORECASE)  # BibTeX's separator of names
# RIS (Research Information Systems' specification): an ID is 0-9 and A-Z, up to 20; an author or a keyword
# up to 255 characters, without an asterisk (nor a periodical's name); a value holds no control character
_RIS_ID = re.compile(r"[0-9A-Z]{1,20}")
_RIS_LONGEST = {"AU": 255, "KW": 255}
_RIS_NO_ASTERISK = frozenset({"AU", "KW", "T2"})


@dataclass
class Citation:
    """What a reference manager needs of one record."""

    id: str
    title: str
    kind: str
    url: str
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    publisher: str = ""
    place: str = ""
    isbn: str = ""
    issn: str = ""
    doi: str = ""
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    language: str = ""
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)


def citation(prepared: Prepared, local_id: str, kind: str, url: str, host: tuple[str, str] | None = None) -> Citation:
    """The citation of a prepared record whose permanent address is ``url``.

    ``host`` is the (title, part) of the item an article was published in, as the catalogue
    resolved it (the held host record's title when 773 carries only a control number).
    """
    desc = describe(prepared)
    dc = prepared.dc
    first = lambda name: (desc.fields.get(name) or [""])[0]  # noqa: E731
    out = Citation(
        id=local_id,
        title=(dc.first("title") if dc else "") or first("title"),
        kind=kind,
        url=url,
        authors=list(dict.fromkeys(dc.get("creator"))) if dc else [],
        year=desc.year,
        publisher=(dc.first("publisher") if dc else "") or "",
        isbn=next((v for v in desc.fields.get("isbn", []) if len(v) == 13), first("isbn")),
        issn=first("issn"),
        doi=desc.dois[0] if desc.dois else "",
        language=desc.languages[0] if desc.languages else "",
        abstract=(dc.first("description") if dc else "") or "",
        keywords=list(dict.fromkeys(desc.subjects)),
    )
    if host is not None:
        out.journal, part = host
        for name, pattern in (("volume", _VOLUME), ("issue", _ISSUE), ("pages", _PAGES)):
            found = pattern.search(part)
            if found:
                setattr(out, name, re.sub(r"\s*[-–]\s*", "-", found.group(1)))
    return out


def to_ris(citations: list[Citation]) -> str:
    """RIS: one ``TY`` ... ``ER`` block per record."""
    lines: list[str] = []
    for c in citations:
        tags = [("TY", _RIS.get(c.kind, "GEN")), ("ID", c.id if _RIS_ID.fullmatch(c.id) else ""), ("TI", c.title)]
        tags += [("AU", a) for a in c.authors]
        tags += [("PY", str(c.year) if c.year else ""), ("PB", c.publisher), ("T2", c.journal), ("VL", c.volume),
                 ("IS", c.issue)]  # fmt: skip
        if c.pages:
            start, _, end = c.pages.partition("-")
            tags += [("SP", start), ("EP", end)]
        tags += [("SN", c.isbn or c.issn), ("LA", c.language), ("AB", c.abstract)]
        tags += [("KW", k) for k in c.keywords]
        tags += [("DO", c.doi), ("UR", c.url)]
        lines += [f"{tag}  - {value}" for tag, value in ((t, _ris_value(t, v)) for t, v in tags) if value]
        lines.append("ER  - ")
        lines.append("")
    return "\r\n".join(lines)  # RIS readers expect CRLF


def to_bibtex(citations: list[Citation]) -> str:
    """BibTeX (UTF-8, as biber and every current reference manager read it)."""
    entries = []
    for c in citations:
        kind = _BIBTEX.get(c.kind, "misc")
        authors = " and ".join(map(_bibtex_name, c.authors))
        fields = [("title", c.title), ("author", authors), ("year", str(c.year or "")),
                  ("publisher", c.publisher), ("journal" if kind == "article" else "howpublished", c.journal),
                  ("volume", c.volume), ("number", c.issue), ("pages", c.pages.replace("-", "--")),
                  ("isbn", c.isbn), ("issn", c.issn), ("language", c.language), ("abstract", c.abstract),
                  ("keywords", ", ".join(c.keywords)), ("doi", c.doi), ("url", c.url)]  # fmt: skip
        body = ",\n".join(f"  {name} = {{{_bibtex_value(value, name)}}}" for name, value in fields if value)
        entries.append(f"@{kind}{{{_bibtex_key(c)},\n{body}\n}}\n")
    return "\n".join(entries)


def to_csl(citations: list[Citation]) -> str:
    """CSL-JSON: a list of items (citeproc-js, Zotero and pandoc read it)."""
    items = []
    for c in citations:
        item: dict = {"id": c.id, "type": _CSL.get(c.kind, "document"), "title": c.title, "URL": c.url}
        if c.authors:
            item["author"] = [_csl_name(a) for a in c.authors]
        if c.year:
            item["issued"] = {"date-parts": [[c.year]]}
        for key, value in (("publisher", c.publisher), ("container-title", c.journal), ("volume", c.volume),
                           ("issue", c.issue), ("page", c.pages), ("ISBN", c.isbn), ("ISSN", c.issn), ("DOI", c.doi),
                           ("language", c.language), ("abstract", c.abstract)):  # fmt: skip
            if value:
                item[key] = value
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=1)


def _one_line(value: str) -> str:
    """``value`` on one line: every run of spaces and line breaks one space, control characters dropped."""
    return " ".join("".join(ch for ch in value if ch.isspace() or ch.isprintable()).split())


def _ris_value(tag: str, value: str) -> str:
    """A RIS value: on one line (a line break would start a tag of its own), within the tag's rules."""
    value = _one_line(value.replace("*", "") if tag in _RIS_NO_ASTERISK else value)
    return value[: _RIS_LONGEST.get(tag)].rstrip()


def _bibtex_value(value: str, name: str) -> str:
    if name in ("url", "doi"):  # verbatim fields (biblatex): a DOI's underscores are its own
        return _VERBATIM_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", value.strip())
    if name == "author":
        return value  # escaped name by name (_bibtex_name)
    return _tex(value)


def _tex(value: str) -> str:
    """``value`` on one line, with TeX's special characters written as text."""
    return _BIBTEX_SPECIAL.sub(lambda m: _TEX.get(m.group()) or "\\" + m.group(), _one_line(value))


def _bibtex_name(name: str) -> str:
    """A name for BibTeX's author list, escaped; braced whole when it holds the word "and", which would split it."""
    return "{" + _tex(name) + "}" if _AND.search(name) else _tex(name)


def _bibtex_key(c: Citation) -> str:
    """A key BibTeX accepts: the record's identifier, with what a key cannot hold replaced."""
    return re.sub(r"[^A-Za-z0-9:._-]", "_", c.id) or "record"


def _csl_name(name: str) -> dict:
    """``Surname, Given`` (the catalogue's inverted form) as CSL parts; any other form whole."""
    family, comma, given = name.partition(",")
    if comma and family.strip() and given.strip():
        return {"family": family.strip(), "given": given.strip().rstrip(".,").strip()}
    return {"literal": name.strip()}
