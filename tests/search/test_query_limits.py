"""A query of any length and content is read or refused in one line; past ``MAX_LENGTH`` it is refused
on the site (in the interface language), by the API (400, JSON) and by the command line (exit 2).

How long reading takes, by kind of query and length, is measured by bench/parse.py, not here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from repository.search import Filters
from repository.search.alternatives import expand
from repository.search.elastic import to_dsl
from repository.search.query import MAX_LENGTH, MAX_WORDS, QueryError, parse
from tests.conftest import Cli

SIZE = 64 * 1024

# one unit of each kind of token the language has, repeated to fill 64 KB, and the pieces that once made a
# pattern split a long run every way (a year with a quoted run of spaces, a long chain of ORs)
KINDS = {
    "words": "kutubxona tarix ",
    "cyrillic words": "библиотеки ўзбекистон ",
    "one long word": "a",
    "quotes": '"oʻzbek tili" ',
    "a quote left open": '"a ',
    "quotes alone": '"',
    "phrases with a prefix": '"oʻzbek ti"* ',
    "prefixes": "kutub* ",
    "fields": "title:tarix ",
    "unknown fields": "colour:red ",
    "field names run together": "title:",
    "years": "year:1990-2000 ",
    "year ranges open": "year:1990- year:-2000 ",
    "isbns": "isbn:978-0-306-40615-7 ",
    "labelled isbns": "ISBN 978-0-306-40615-7 ",
    "issns": "issn:0378-5955 ",
    "dois": "10.1000/182 doi:10.1000/182 ",
    "links": "https://doi.org/10.1000/182 https://example.org/a ",
    "class numbers": "udc:94(575.1) bbk:63.3 callno:Z665 ",
    "operators": "a OR b NOT c -d ",
    "a chain of ORs": "ab OR ",
    "parentheses": "(a OR b) ",
    "signs": "-*:()",
    "digits and hyphens": "1-",
}


def _filled(unit: str) -> str:
    return (unit * (SIZE // len(unit) + 1))[:SIZE]


@pytest.mark.parametrize("kind", list(KINDS))
def test_64_kb_of_each_kind_of_token_is_read_or_refused_with_a_query_error(kind: str):
    try:
        query = parse(_filled(KINDS[kind]), max_length=None, max_words=None)  # the grammar, without limits
    except QueryError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
    else:
        assert query.text == _filled(KINDS[kind])


def test_a_year_with_a_long_run_of_spaces_is_refused_in_one_short_line():
    with pytest.raises(QueryError) as caught:
        parse('year:"1' + " " * SIZE + 'x"', max_length=None, max_words=None)
    assert caught.value.kind == "year" and len(str(caught.value)) < 200
    with pytest.raises(QueryError) as caught:
        parse('year:"19\n90 x"')
    assert "\n" not in str(caught.value) and "19 90 x" in str(caught.value)
    assert parse('year:" 1990 - 2000 "').filters.year_from == 1990  # spaces around a range are no error


def test_a_long_chain_of_ors_is_one_group():
    query = parse("ab OR " * 5000, max_length=None, max_words=None)
    assert len(query.groups) == 1 and len(query.groups[0]) == 5000


def test_a_query_longer_than_the_limit_is_refused_saying_so():
    assert parse("a" * MAX_LENGTH).groups  # the limit itself is read
    with pytest.raises(QueryError) as caught:
        parse("a" * (MAX_LENGTH + 1))
    assert caught.value.kind == "too_long" and f"at most {MAX_LENGTH} characters" in str(caught.value)


def _leaves(dsl: object) -> int:
    """The leaf queries of an Elasticsearch query, as OpenSearch counts them against its 1,024 clauses."""
    if isinstance(dsl, list):
        return sum(map(_leaves, dsl))
    if not isinstance(dsl, dict):
        return 0
    if "bool" in dsl:
        return _leaves(list(dsl["bool"].values()))
    return 1 if set(dsl) & _LEAF_KINDS else 0


_LEAF_KINDS = {"match", "prefix", "match_phrase", "match_phrase_prefix", "terms", "range", "match_all"}


def test_a_query_of_more_words_than_the_limit_is_refused_and_alternatives_fit_within_it():
    assert len(parse(" ".join(f"soʻz{i}" for i in range(MAX_WORDS))).groups) == MAX_WORDS
    with pytest.raises(QueryError) as caught:
        parse(" ".join(["a"] * MAX_WORDS + ["-b"]))  # excluded words count too
    said = str(caught.value)
    assert caught.value.kind == "too_many_words" and f"at most {MAX_WORDS} words, and this one has 33" in said
    # an index that holds every alternative asked for: words with many (Russian words and their lemmas'
    # forms, places, a Russian keyboard's readings) get them in turn, and the whole stays within the limit
    query = expand(parse("история библиотеки хорезмская узбекистон ташкент самарканд коракалпогистон -кукурузы"), set)
    terms = sum(map(len, query.groups)) + len(query.excluded)
    assert terms == MAX_WORDS and any(len(group) > 1 for group in query.groups), query
    # the most a query can be, every word searched in every field as a word and as a prefix, is a query
    # an Elasticsearch or OpenSearch with its default limit of 1,024 clauses takes
    widest = expand(parse(" ".join(f"ab{i}" for i in range(MAX_WORDS)), Filters(year_from=1990)), set)
    assert _leaves(to_dsl(widest)) <= 1024


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_past_the_limit_the_site_the_api_and_the_command_line_refuse_in_one_line(cli: Cli, live: str):
    long = ("kitob" * 20 + " ") * 5 + "kitob"  # 510 characters, six words
    status, body = _get(f"{live}/api/search?q={urllib.parse.quote(long)}")
    assert status == 400 and f"at most {MAX_LENGTH} characters" in json.loads(body)["error"]
    status, body = _get(f"{live}/search?lang=ru&q={urllib.parse.quote(long)}")
    assert status == 400 and f"запрос может быть не длиннее {MAX_LENGTH} знаков" in body and "Traceback" not in body
    status, body = _get(f"{live}/search?lang=uz_Latn&q={urllib.parse.quote(long)}")
    assert status == 400 and f"soʻrov {MAX_LENGTH} belgidan uzun boʻlmasligi kerak" in body
    result = cli("search", *long.split(), code=2)
    assert f"at most {MAX_LENGTH} characters" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _get(f"{live}/api/search?q={urllib.parse.quote(long[:MAX_LENGTH])}")[0] == 200
    [q] = [p for p in json.loads(_get(f"{live}/api/openapi.json")[1])["paths"]["/api/search"]["get"]["parameters"]
           if p["name"] == "q"]  # fmt: skip
    many = " ".join(["kitob"] * (MAX_WORDS + 1))
    status, body = _get(f"{live}/search?lang=ru&q={urllib.parse.quote(many)}")
    assert status == 400 and f"в запросе может быть не больше {MAX_WORDS} слов, а в этом 33" in body
    assert q["schema"]["maxLength"] == MAX_LENGTH and f"at most {MAX_LENGTH} characters" in q["description"]
