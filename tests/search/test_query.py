"""Reading a query: terms, groups, filters, stems, identifiers; and what each backend makes of it."""

from __future__ import annotations

import pytest

from repository.search.elastic import to_dsl
from repository.search.embedded import to_fts
from repository.search.query import Filters, QueryError, Term, parse


def test_words_are_required_prefixes_and_fields_narrow():
    q = parse("Oʻzbekiston title:tarixi")
    assert q.groups == [(Term(None, ("ozbekiston",)),), (Term("title", ("tarixi",)),)]
    assert to_fts(q) == '("ozbekiston"*) AND (title : "tarixi"*)'


def test_or_joins_two_terms_and_not_leaves_out():
    q = parse("a1b OR c2d NOT e3f -g4h")
    assert [len(g) for g in q.groups] == [2]
    assert [t.words for t in q.excluded] == [("e3f",), ("g4h",)]
    assert to_fts(q) == '(("a1b"* OR "c2d"*)) NOT ("e3f"* OR "g4h"*)'
    dsl = to_dsl(q)["bool"]
    assert len(dsl["must"]) == 1 and len(dsl["must_not"]) == 2


def test_phrases_are_exact_unless_starred_and_a_hyphenated_word_is_a_phrase():
    assert parse('"ozbek tili"').groups[0][0] == Term(None, ("ozbek", "tili"), phrase=True, prefix=False)
    assert parse('"ozbek ti"*').groups[0][0].prefix is True
    assert parse("ilm-fan").groups[0][0] == Term(None, ("ilm", "fan"), phrase=True, prefix=False)
    assert parse("bbk:78.3").groups[0][0] == Term("bbk", ("78", "3"), phrase=True, prefix=True)


def test_identifiers_are_normalised():
    assert parse("0-306-40615-2").groups[0][0] == Term("isbn", ("9780306406157",), prefix=False)
    assert parse("issn:03785955").groups[0][0] == Term("issn", ("0378", "5955"), phrase=True, prefix=False)
    assert parse("isbn:12345").groups[0][0] == Term("isbn", ("12345",))  # not an ISBN: a plain prefix


@pytest.mark.parametrize(
    "text", ["10.1000/ABC", "doi:10.1000/abc", 'doi:"10.1000/abc"', "https://doi.org/10.1000/abc",
             "http://dx.doi.org/10.1000%2Fabc", "identifier:10.1000/abc"],
)  # fmt: skip
def test_a_doi_however_written_is_looked_up_among_identifiers(text: str):
    query = parse(text)
    assert query.groups == [(Term("identifier", ("doi101000abc",), prefix=False),)]
    assert query.is_lookup


@pytest.mark.parametrize(
    ("text", "term"),
    [("ISBN 978-0-306-40615-7", Term("isbn", ("9780306406157",), prefix=False)),
     ("ISSN: 0378-5955", Term("issn", ("0378", "5955"), phrase=True, prefix=False)),
     ("DOI: https://doi.org/10.1000/abc", Term("identifier", ("doi101000abc",), prefix=False))],
)  # fmt: skip
def test_a_label_copied_with_an_identifier_names_its_field(text: str, term: Term):
    assert parse(text).groups == [(term,)]


def test_a_label_before_anything_else_is_a_word():
    assert [g[0].words for g in parse("isbn history").groups] == [("isbn",), ("history",)]
    assert [g[0].words for g in parse("issn 12").groups] == [("issn",), ("12",)]
    assert [g[0].words for g in parse("tarix isbn").groups] == [("tarix",), ("isbn",)]


def test_a_pasted_link_is_searched_by_its_words_not_read_as_a_field():
    assert parse("https://example.org/x").groups == [(Term(None, ("https", "example", "org", "x"), phrase=True,
                                                           prefix=False),)]  # fmt: skip
    assert parse("title:10.1000/abc").groups[0][0].field == "title"  # a field asked for stays asked for


@pytest.mark.parametrize(
    ("text", "years"),
    [("year:1995", (1995, 1995)), ("year:1990-2000", (1990, 2000)), ("year:1990-", (1990, None)),
     ("year:-2000", (None, 2000))],
)  # fmt: skip
def test_year_ranges(text: str, years: tuple):
    f = parse(text).filters
    assert (f.year_from, f.year_to) == years


def test_facet_filters_from_the_query_and_from_outside_combine():
    given = Filters()
    given.add("decade", "1990")
    q = parse("tarix lang:UZB type:book set:fond:asosiy", given)
    assert q.filters.values == {"decade": ("1990",), "lang": ("uzb",), "type": ("book",), "set": ("fond:asosiy",)}
    with pytest.raises(QueryError, match="no facet"):
        Filters().add("colour", "red")


def test_an_empty_query_is_every_record():
    assert to_fts(parse("")) is None and to_dsl(parse(""))["bool"]["must"] == [{"match_all": {}}]
