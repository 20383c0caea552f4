"""oai-identifier syntax, ISBN and ISSN normalisation, DOIs."""

from __future__ import annotations

from repository.metadata.identifiers import (
    OAI_ID,
    doi_key,
    doi_of,
    local_from_oai,
    normalise_isbn,
    normalise_issn,
    oai_identifier,
    record_path,
)


def test_oai_identifier_percent_encodes_what_the_syntax_forbids():
    ident = oai_identifier("demo.kutubxona.uz", "RU\\NLR\\bibl 1980 Ўз%")
    assert ident == "oai:demo.kutubxona.uz:RU%5CNLR%5Cbibl%201980%20%D0%8E%D0%B7%25"
    assert OAI_ID.match(ident)
    assert local_from_oai("demo.kutubxona.uz", ident) == "RU\\NLR\\bibl 1980 Ўз%"
    assert oai_identifier("demo.kutubxona.uz", "src:oai:x.org:a/b") == "oai:demo.kutubxona.uz:src:oai:x.org:a/b"


def test_only_our_exact_identifiers_resolve():
    assert local_from_oai("demo.kutubxona.uz", "oai:other.org:X1") is None
    assert local_from_oai("demo.kutubxona.uz", "oai:demo.kutubxona.uz:%41") is None  # not our encoding of "A"
    assert local_from_oai("demo.kutubxona.uz", "oai:demo.kutubxona.uz:a b") is None


def test_record_path_is_url_safe():
    assert record_path("RU\\1 2/3") == "/records/RU%5C1%202%2F3"


def test_isbn_normalisation():
    assert normalise_isbn("978-9943-00001-8 (pbk.)") == "9789943000018"
    assert normalise_isbn("9943000015") == "9789943000018"
    assert normalise_isbn("0-306-40615-2") == "9780306406157"
    assert normalise_isbn("0-306-40615-3") is None  # bad check digit
    assert normalise_isbn("no isbn") is None


def test_issn_normalisation():
    assert normalise_issn("0869-608X") == "0869-608X"
    assert normalise_issn("ISSN 21819742") == "2181-9742"
    assert normalise_issn("0869-6081") is None


def test_a_doi_is_read_bare_after_doi_or_from_a_resolver_link():
    assert doi_of("10.1000/182") == "10.1000/182"
    assert doi_of(" doi: 10.1000/182 ") == "10.1000/182"
    assert doi_of("https://doi.org/10.1000/182") == "10.1000/182"
    assert doi_of("HTTP://DX.DOI.ORG/10.1000%2F182") == "10.1000/182"  # a link percent-encodes the DOI
    assert doi_of("10.1002/(SICI)1097-4636(199706)35:4<456::AID-JBM5>3.0.CO;2-H").startswith("10.1002/(SICI)")
    assert doi_of("10.1000.10/abc") == "10.1000.10/abc"  # a dotted registrant code
    for not_a_doi in ("https://example.org/10.1000/182", "10.12/x", "11.1000/182", "10.1000/", "", "kitob"):
        assert doi_of(not_a_doi) is None, not_a_doi
    assert doi_key("10.1000/ABC-1") == "doi101000abc1"  # one word: a query finds this DOI, not 10.1000/abc-1.2
