"""Request parsing: verbs, arguments, exclusivity, dates and granularity (CHECKLIST B, E)."""

from __future__ import annotations

from datetime import datetime

import pytest

from repository.oai.errors import BadArgument, BadVerb
from repository.oai.request import parse_request


def parse(query: str):  # noqa: ANN201
    from urllib.parse import parse_qsl

    return parse_request(parse_qsl(query, keep_blank_values=True))


@pytest.mark.parametrize(
    "query", ["", "junk", "verb=identify", "verb=junk", "verb=Identify&verb=Identify", "verb=Identify&verb=ListSets"]
)
def test_bad_verbs(query: str):  # CHECKLIST 15, 16, 17
    with pytest.raises(BadVerb):
        parse(query)


@pytest.mark.parametrize(
    "query",
    [
        "verb=Identify&test=test",  # 19
        "verb=ListSets&set=x",
        "verb=GetRecord&identifier=a&metadataPrefix=oai_dc&from=2001-01-01",
        "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",  # 18
        "verb=ListRecords&metadataprefix=oai_dc",  # 20: names are case-sensitive
        "verb=GetRecord&metadataPrefix=oai_dc",  # 21
        "verb=GetRecord&identifier=x",
        "verb=ListRecords",
        "verb=ListIdentifiers",
        "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=junk&until=1990-01-10",  # 22
        "verb=ListIdentifiers&resumptionToken=junk&until=2000-02-05",
        "verb=ListRecords&metadataPrefix=oai_dc&set=",  # 23
        "verb=ListRecords&metadataPrefix=",
        "verb=ListRecords&metadataPrefix=oai_dc&from=",
        "verb=GetRecord&identifier=&metadataPrefix=oai_dc",  # an empty value is illegal syntax, not an
        "verb=ListMetadataFormats&identifier=",  # unknown id or token (3.6)
        "verb=ListRecords&resumptionToken=",
        "verb=ListRecords&metadataPrefix=oai_dc&from=junk",  # 24
        "verb=ListRecords&metadataPrefix=oai_dc&until=2002-13-45",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05T00:00:00",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05T00:00Z",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05T00:00:00.5Z",
        "verb=ListRecords&metadataPrefix=oai_dc&until=2002-02-30",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05&until=2002-02-06T05:35:00Z",  # 54
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-06&until=2002-02-05",  # 56
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05T00:00:01Z&until=2002-02-05T00:00:00Z",
        "verb=Identify&resumptionToken=x",
    ],
)
def test_bad_arguments(query: str):
    with pytest.raises(BadArgument):
        parse(query)


def test_day_until_covers_the_whole_day_and_bounds_are_inclusive():  # CHECKLIST 57, 58
    req = parse("verb=ListRecords&metadataPrefix=oai_dc&from=2020-05-01&until=2020-05-01")
    assert req.from_ == datetime(2020, 5, 1, 0, 0, 0)
    assert req.until == datetime(2020, 5, 1, 23, 59, 59)
    req = parse("verb=ListRecords&metadataPrefix=oai_dc&from=2020-05-01T10:00:00Z&until=2020-05-01T10:00:00Z")
    assert req.from_ == req.until == datetime(2020, 5, 1, 10, 0, 0)


def test_token_is_exclusive_and_echo_is_exact():
    req = parse("verb=ListRecords&resumptionToken=abc.def-_")
    assert req.token == "abc.def-_" and req.arguments == {"verb": "ListRecords", "resumptionToken": "abc.def-_"}
    req = parse("verb=GetRecord&identifier=oai%3Aa.b%3Ax%2Fy&metadataPrefix=oai_dc")  # 5: decoded once
    assert req.identifier == "oai:a.b:x/y"
