"""A researcher's query, read once into a structure both backends compile: terms, groups, filters.

The language: words (all required, each matching as a prefix), ``field:word``, ``"a phrase"``,
``prefix*``, ``OR`` between two terms, ``NOT term`` or ``-term``, and filters ``year:1990-2000``,
``lang:uzb``, ``type:book``, ``set:spec``.  A word keeps what the reader typed, so that
``search.alternatives`` can add its other forms and spellings; an ISBN, with or without hyphens,
finds the record by its ISBN-10 or -13;
a DOI, bare, after ``doi:`` or as a doi.org link, finds the record that carries it.
A query that cannot be read, longer than ``MAX_LENGTH`` or of more than ``MAX_WORDS`` words, is a
``QueryError`` saying why in one line, never a failure.  Reading takes time linear in the query's
length, whatever it holds: no pattern here can backtrack over what it has read (bench/parse.py
measures it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from repository.errors import KutubxonaError
from repository.metadata.identifiers import doi_key, doi_of, isbn_forms, normalise_issn
from repository.search.fold import words

#: the fields of a document that hold text, with their relevance weight (title over author ...)
TEXT_FIELDS: dict[str, float] = {
    "title": 10.0,
    "author": 5.0,
    "subject": 3.0,
    "series": 2.0,
    "journal": 2.0,
    "publisher": 1.5,
    "notes": 1.0,
    "isbn": 1.0,
    "issn": 1.0,
    "udc": 1.0,
    "bbk": 1.0,
    "callno": 1.0,
    "identifier": 1.0,
    "other": 0.8,
    "text": 0.5,
}
#: facets: a field a result can be narrowed by, and counted on
FACETS = ("type", "lang", "decade", "subject", "set", "fulltext")
SORTS = ("relevance", "year", "title")
_CLASSIFICATIONS = ("udc", "bbk", "callno")  # hierarchical: "78.3" finds "78.34"
_FILTERS = {"lang": "lang", "language": "lang", "type": "type", "set": "set"}
_TOKEN = re.compile(r'(-)?(?:(\w+):)?("[^"]*"?\*?|[^\s"]+)')
# possessive spaces: two greedy runs of spaces side by side split a long run every possible way before
# failing, quadratic in its length (year:"1 ... x" with 4,000 spaces took 0.5 s)
_YEARS = re.compile(r"(\d{1,4})?\s*+(-)?\s*+(\d{1,4})?")
_ISBNISH = re.compile(r"^[\dXx][\d\-Xx ]{8,16}[\dXx]$")
_OPERATORS = ("AND", "OR", "NOT")
_LINKS = ("doi", "http", "https")  # before a colon: a DOI or a link pasted whole, not a field
#: the longest query read, in characters; a longer one is refused (``QueryError``), not read.  It leaves
#: room for a title pasted with its author and ISBN, and keeps the site's address of a query in Cyrillic
#: (6 bytes a letter, percent-encoded) under the 4 KB request line a server such as gunicorn accepts
MAX_LENGTH = 500
# words a query may hold (terms, excluded ones too), as web search engines allow: each is some thirty
# clauses on Elasticsearch (two in each field), which refuses a query of more than 1,024 by default
# (OpenSearch's indices.query.bool.max_clause_count); the alternatives a query is searched with
# (search.alternatives) are fitted within the same number
MAX_WORDS = 32


class QueryError(KutubxonaError):
    """A query that cannot be read; the message says why, in English.

    ``kind`` and ``params`` say the same for an interface that speaks another language (the site).
    """

    def __init__(self, message: str, kind: str = "", **params: str) -> None:
        super().__init__(message)
        self.kind, self.params = kind, params


LOOKUP_FIELDS = frozenset({"isbn", "issn", "udc", "bbk", "callno", "identifier"})


@dataclass(frozen=True)
class Term:
    """Words to find in one field (``None``: in any), as a phrase or each anywhere; the last as a prefix.

    ``typed``: a single word as the reader typed it; ``alternative``: another reading of a typed word
    (``search.alternatives``), not itself typed.  Neither changes what the term finds.
    """

    field: str | None
    words: tuple[str, ...]
    phrase: bool = False
    prefix: bool = True
    typed: str = field(default="", compare=False)
    alternative: bool = field(default=False, compare=False)


@dataclass
class Filters:
    """What narrows a result: a year range, and facet values (any of a facet's, all facets)."""

    year_from: int | None = None
    year_to: int | None = None
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.year_from is not None or self.year_to is not None or bool(self.values)

    def add(self, facet: str, value: str) -> None:
        """Accept records with this facet value too."""
        if facet not in FACETS:
            raise QueryError(f"no facet {facet!r}; facets: {', '.join(FACETS)}", "no_facet", name=facet,
                             names=", ".join(FACETS))  # fmt: skip
        self.values[facet] = (*self.values.get(facet, ()), value)


@dataclass
class Query:
    """A read query: every group is required (a group matches when any of its terms does)."""

    text: str
    groups: list[tuple[Term, ...]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    def positive_terms(self) -> list[Term]:
        """The terms a hit may contain (for snippets and spelling suggestions)."""
        return [t for group in self.groups for t in group]

    @property
    def is_lookup(self) -> bool:
        """Every term asks a code or an identifier (``udc:02``, ``isbn:...``): the hits are found, not ranked.

        A class number or an ISBN is there or not; how often a record repeats it says nothing of how
        well it answers. So such a query's hits score alike and come newest first, as browsing does,
        on both backends (and the embedded one is spared ranking, say, 85% of the catalogue by BM25).
        """
        terms = self.positive_terms()
        return bool(terms) and all(t.field in LOOKUP_FIELDS for t in terms)


def parse(
    text: str, filters: Filters | None = None, max_length: int | None = MAX_LENGTH, max_words: int | None = MAX_WORDS
) -> Query:
    """Read ``text`` (empty: every record, narrowed by ``filters``), refusing one over ``max_length`` characters
    or ``max_words`` words."""
    text = text or ""
    if max_length is not None and len(text) > max_length:
        raise QueryError(f"a query has at most {max_length} characters, and this one has {len(text)}", "too_long",
                         limit=str(max_length), length=str(len(text)))  # fmt: skip
    query = Query(text, filters=filters or Filters())
    groups: list[list[Term]] = []  # lists while reading: an OR joins a term to the last in place
    negate_next = or_next = False
    for minus, name, raw in _tokens(text):
        if not name and not minus and raw in _OPERATORS:
            if raw == "NOT":
                negate_next = True
            elif raw == "OR":
                or_next = bool(groups)
            continue
        negate = negate_next or bool(minus)
        negate_next = False
        name = name.lower()
        if name in ("year", *_FILTERS):
            if negate or or_next:
                raise QueryError(f"{name}: narrows a search and cannot be negated or joined by OR", "narrows",
                                 name=name)  # fmt: skip
            _filter(query.filters, name, raw.strip('"'))
            continue
        if name and name not in TEXT_FIELDS and name != "any":
            names, name = ", ".join([*TEXT_FIELDS, "year", *_FILTERS]), _shown(name)
            raise QueryError(f"no field {name!r} to search; fields: {names}", "no_field", name=name, names=names)
        term = _term(None if name in ("", "any") else name, raw)
        if term is None:
            or_next = False
            continue
        if negate:
            query.excluded.append(term)
        elif or_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        or_next = False
    if not groups and query.excluded:
        shown = _shown(text)
        raise QueryError(f"{shown!r}: say what to find, not only what to leave out", "only_excluded", text=shown)
    query.groups = [tuple(group) for group in groups]
    words = sum(map(len, query.groups)) + len(query.excluded)
    if max_words is not None and words > max_words:
        raise QueryError(f"a query has at most {max_words} words, and this one has {words}", "too_many_words",
                         limit=str(max_words), count=str(words))  # fmt: skip
    return query


def _shown(text: str, width: int = 60) -> str:
    """``text`` as an error message quotes it: on one line, and cut to ``width`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _tokens(text: str) -> Iterator[tuple[str, str, str]]:
    """The query's tokens (minus, field name, body), with what is pasted whole read as such.

    A link or a ``doi:`` is one token, not a field and its word.  A label before an identifier names
    its field (``ISBN 978-...`` is ``isbn:978-...``): identifiers are copied with their labels from a
    book's back or a list of references, and the label, no word of the record, would find nothing.
    """
    pending = None  # a label just read: its rule, and the label as a token
    for minus, name, raw in _TOKEN.findall(text):
        rule = _LABELS.get(raw.lower().rstrip(":")) if not minus and not name else None
        if name.lower() in _LINKS:
            name, raw = "", name + ":" + raw.strip('"')
        if pending is not None:
            (field_name, looks_like), label = pending
            pending = None
            if not name and looks_like(raw.strip('"')):
                yield minus, field_name, raw
                continue
            yield label
        if rule is not None:
            pending = rule, (minus, name, raw)
        else:
            yield minus, name, raw
    if pending is not None:
        yield pending[1]


# a label, the field what follows it is searched in, and what that looks like
_LABELS: dict[str, tuple[str, Callable[[str], object]]] = {
    "isbn": ("isbn", lambda text: _ISBNISH.match(text) and isbn_forms(text)),
    "issn": ("issn", normalise_issn),
    "doi": ("identifier", doi_of),
}


def _filter(filters: Filters, name: str, value: str) -> None:
    if name == "year":
        match = _YEARS.fullmatch(value.strip())
        if not value.strip() or not match:
            value = _shown(value)
            raise QueryError(f"year:{value}: give a year (1995) or a range (1990-2000, 1990-, -2000)", "year",
                             value=value)  # fmt: skip
        first, dash, last = match.groups()
        filters.year_from = int(first) if first else None
        filters.year_to = int(last) if last else (None if dash else filters.year_from)
        return
    filters.add(_FILTERS[name], value.lower() if name != "set" else value)


def _term(name: str | None, raw: str) -> Term | None:
    """One term: folded words; quotes make a phrase; an ISBN or ISSN is normalised."""
    quoted = raw.startswith('"')
    star = raw.endswith("*")
    body = raw.rstrip("*").strip('"').rstrip("*")
    if name in (None, "isbn") and _ISBNISH.match(body) and (forms := isbn_forms(body)):
        return Term("isbn", (forms[0].lower(),), phrase=False, prefix=False)
    if name == "issn" and (issn := normalise_issn(body)):
        return Term("issn", tuple(words(issn)), phrase=True, prefix=False)
    if name in (None, "identifier") and (doi := doi_of(body)):
        return Term("identifier", (doi_key(doi),), phrase=False, prefix=False)
    found = words(body)
    if not found:
        return None
    if len(found) == 1 and not quoted:
        return Term(name, (found[0],), phrase=False, prefix=True, typed=body)
    # several words in one term (oʻzbek-tili, 78.34) are a phrase; quoted ones match whole unless ending in *
    return Term(name, tuple(found), phrase=True, prefix=star or (not quoted and name in _CLASSIFICATIONS))
