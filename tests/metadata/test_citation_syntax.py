"""Every citation format escapes what its syntax needs: hostile values in every field are read back by a
parser of the format (pybtex, as strict as BibTeX; rispy; json) as one record, with the values given and
no field added."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import unquote

import pytest
import rispy
from pybtex.database import parse_string

from repository.metadata.citations import Citation, to_bibtex, to_csl, to_ris

# what a catalogue's values may hold that a format's syntax reads as its own: braces, a backslash, BibTeX's
# entry and comment signs, TeX's specials, quotes, and a line break followed by the RIS end-of-record tag
HOSTILE = "a}b{c\\d @misc{x, %y #z &w $v _u ~t ^s \"q\" 'r' *s*\nER  - \r\nTY  - BOOK\u2028N1  - note"
DOIS = ["10.1234/abc}", "10.1234/x}, note = {added", "10.1234/{a}\\b%c#d"]


def hostile(doi: str = DOIS[0], **changes: object) -> Citation:
    """A citation whose every value is hostile (an article: journal, volume, issue and pages too)."""
    c = Citation(id="KTB000001", title="Title " + HOSTILE, kind="article", url="https://x.test/records/a}b{c\\d",
                 authors=["Karimov, A. " + HOSTILE, "Tom and Jerry", "Ёлкин, О."], year=2020,
                 publisher="Fan " + HOSTILE, isbn="9789943000001", issn="0378-5955", doi=doi,
                 journal="Journal " + HOSTILE, volume="5}", issue="2{", pages="10-20", language="uzb",
                 abstract="Abstract " + HOSTILE, keywords=["Tarix " + HOSTILE, "Adabiyot"])  # fmt: skip
    return replace(c, **changes)


def one_line(value: str) -> str:
    return " ".join(value.split())


_TEX = {r"\textbackslash{}": "\\", r"\textbraceleft{}": "{", r"\textbraceright{}": "}",
        r"\textasciitilde{}": "~", r"\textasciicircum{}": "^"}  # fmt: skip


def untex(value: str) -> str:
    """A BibTeX value as text: TeX's escapes undone."""
    value = re.sub("|".join(map(re.escape, _TEX)), lambda m: _TEX[m.group()], value)
    return re.sub(r"\\([&%$#_])", r"\1", value)


@pytest.mark.parametrize("doi", DOIS)
def test_bibtex_reads_back_as_one_entry_with_the_fields_given(doi: str):
    c = hostile(doi)
    text = to_bibtex([c, replace(c, id="KTB000002")])
    entries = parse_string(text, "bibtex").entries  # pybtex counts braces as BibTeX does, escaped or not
    assert list(entries) == ["KTB000001", "KTB000002"]
    entry = entries["KTB000001"]
    assert entry.type == "article"
    assert set(entry.fields) == {"title", "year", "publisher", "journal", "volume", "number", "pages", "isbn",
                                 "issn", "language", "abstract", "keywords", "doi", "url"}  # fmt: skip
    for name, value in (("title", c.title), ("publisher", c.publisher), ("journal", c.journal), ("volume", "5}"),
                        ("number", "2{"), ("abstract", c.abstract), ("keywords", ", ".join(c.keywords))):  # fmt: skip
        assert untex(entry.fields[name]) == one_line(value), name
    assert unquote(entry.fields["doi"]) == doi and unquote(entry.fields["url"]) == c.url  # verbatim, %-encoded
    assert [untex(str(p)) for p in entry.persons["author"]] == [
        "Karimov, A. " + one_line(HOSTILE),
        "{Tom and Jerry}",
        "Ёлкин, О.",
    ]  # fmt: skip  (braced: one name)


def test_ris_keeps_one_tag_a_line_and_the_lengths_the_specification_allows():
    c = hostile(authors=["Karimov, A. " + HOSTILE, "Qodirov, " + "A" * 300], keywords=["K" * 300, "Tarix*"])
    text = to_ris([c, replace(c, id="ktb-000002/a")])
    lines = text.split("\r\n")
    # each line a tag (two characters, two spaces, a dash, a space) and a value of printable characters
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - [^\x00-\x1f\x7f\u2028\u2029]*", line) for line in lines if line)
    assert [line for line in lines if line.startswith(("TY", "ER"))] == ["TY  - JOUR", "ER  - "] * 2
    first, second = rispy.loads(text)
    assert first["id"] == "KTB000001" and "id" not in second  # an ID is 0-9 and A-Z, up to 20 (or none)
    assert first["title"] == one_line(c.title) and first["abstract"] == one_line(c.abstract)
    assert first["doi"] == c.doi and first["urls"] == [c.url]
    assert "notes" not in first and "N1  - note" not in lines
    # authors and keywords: up to 255 characters each, and no asterisk (nor in the periodical's name)
    assert [len(a) <= 255 and "*" not in a for a in first["authors"]] == [True, True]
    assert first["authors"][1] == ("Qodirov, " + "A" * 300)[:255]
    assert first["keywords"] == ["K" * 255, "Tarix"] and "*" not in first["secondary_title"]


def test_csl_json_reads_back_with_the_values_given():
    c = hostile()
    [item] = json.loads(to_csl([c]))
    assert set(item) == {"id", "type", "title", "URL", "author", "issued", "publisher", "container-title",
                         "volume", "issue", "page", "ISBN", "ISSN", "DOI", "language", "abstract"}  # fmt: skip
    assert (item["title"], item["abstract"], item["DOI"], item["URL"]) == (c.title, c.abstract, c.doi, c.url)
    assert item["author"][1] == {"literal": "Tom and Jerry"}


@pytest.mark.parametrize("doi", DOIS)
def test_a_doi_with_braces_neither_ends_its_bibtex_entry_nor_adds_a_field(doi: str):
    c = Citation(id="KTB000001", title="Oʻzbekiston tarixi", kind="book", url="https://x.test/records/KTB000001",
                 doi=doi)  # fmt: skip
    [entry] = parse_string(to_bibtex([c]), "bibtex").entries.values()
    assert set(entry.fields) == {"title", "doi", "url"} and unquote(entry.fields["doi"]) == doi
