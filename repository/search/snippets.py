"""Snippets of a hit in the record's own words, with the matching words marked.

Both backends index folded words, so their own highlighters would show ``ozbekiston`` where the
record says ``Ўзбекистон``.  Snippets are cut here instead, from the catalogue's text, by folding
each of its words the way the query's were folded; both backends therefore show the same ones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from repository.search.documents import Document
from repository.search.fold import WORD, words
from repository.search.query import Query, Term

#: the most a snippet shows of its field, in characters ("…" is added at an end where it cuts): a field of
#: 300 KB with no space in it, cut at spaces, came back whole in every hit
WIDTH = 200
_REACH = 20  # how far a snippet's ends move, within the width, to fall between words; past it a word is cut
_SHOWN = ("title", "author", "subject", "series", "journal", "publisher", "notes", "text")  # not identifiers


@dataclass(frozen=True)
class Snippet:
    """A piece of one field (of one page, for the full text) and where in it the query's words are."""

    field: str
    text: str
    marks: list[tuple[int, int]]  # [start, end) offsets in ``text``
    file: str | None = None
    page: int | None = None

    def as_json(self) -> dict:
        """The snippet as the JSON API and ``search --json`` give it."""
        out: dict = {"field": self.field, "text": self.text, "marks": [list(m) for m in self.marks]}
        if self.page is not None:
            out.update(file=self.file, page=self.page)
        return out


def snippets(doc: Document, query: Query, limit: int = 3, width: int = WIDTH) -> list[Snippet]:
    """Up to ``limit`` snippets of ``doc`` where the query's words are, best fields first."""
    terms = query.positive_terms()
    out: list[Snippet] = []
    for name in _SHOWN:
        wanted = [t for t in terms if t.field in (None, name)]
        if not wanted:
            continue
        if name == "text":
            sources = [(p.text, p.file, p.number) for p in doc.pages]
        else:
            sources = [(value, None, None) for value in doc.fields.get(name, ())]
        for text, file, page in sources:
            marks = _marks(text, wanted, width)
            if marks:
                out.append(_cut(name, text, marks, width, file, page))
                if len(out) >= limit:
                    return out
                if name != "text":
                    break  # one value of a field is enough; pages may each have one
    return out


def _marks(text: str, terms: list[Term], width: int) -> list[tuple[int, int]]:
    """Where in ``text`` words matching the terms are (a phrase's words are marked one by one), as far as a
    snippet of ``width`` around the first of them reaches."""
    exact = {w for t in terms for w in (t.words if not t.prefix else t.words[:-1])}
    prefixes = tuple(t.words[-1] for t in terms if t.prefix)
    # most fields and pages of a hit hold none of the words: one pass over the folded whole says so, and
    # the words are then folded one by one only up to the end of the snippet (a page's every word cost ms)
    if not _mentions(frozenset(exact), prefixes).search(" ".join(words(text))):
        return []
    found: list[tuple[int, int]] = []
    for match in WORD.finditer(text):
        if found and match.start() > found[0][0] + width:
            break  # past any window ``_cut`` can make around the first mark
        folded = words(match.group())
        if any(w in exact or (prefixes and w.startswith(prefixes)) for w in folded):
            found.append(match.span())
    return found


@lru_cache(maxsize=256)
def _mentions(exact: frozenset[str], prefixes: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern finding, in folded words joined by spaces, any of these words or a word starting so."""
    alternatives = [re.escape(w) + r"(?![^ ])" for w in sorted(exact)] + [re.escape(p) for p in prefixes]
    return re.compile(r"(?<![^ ])(?:" + "|".join(alternatives or ["(?!)"]) + ")")


def _cut(name: str, text: str, marks: list[tuple[int, int]], width: int, file: str | None, page: int | None) -> Snippet:
    """At most ``width`` characters around the first mark, between words where a space is near enough,
    with '…' where cut; a mark the window cuts is marked as far as it shows."""
    if len(text) <= width:
        return Snippet(name, text, marks, file, page)
    first, first_end = marks[0]
    start = max(0, first - width // 3)
    space = _space_before(text, start + 1, max(0, start - _REACH))
    start = space + 1 if space is not None else (0 if start <= _REACH else start)
    while start < first and (text[start].isspace() or unicodedata.combining(text[start])):
        start += 1  # no space to begin with, nor a letter's accent without its letter
    end = min(len(text), start + width)
    if end < len(text) and not text[end].isspace():
        end = _space_before(text, end, max(first_end, end - _REACH)) or end
    while end > first_end and (text[end - 1].isspace() or (end < len(text) and unicodedata.combining(text[end]))):
        end -= 1
    head, tail = ("…" if start > 0 else ""), ("…" if end < len(text) else "")
    shift = len(head) - start
    inside = [(max(s, start) + shift, min(e, end) + shift) for s, e in marks if s < end and e > start]
    return Snippet(name, head + text[start:end] + tail, inside, file, page)


def _space_before(text: str, at: int, limit: int) -> int | None:
    """The position of the last space before ``at`` and not before ``limit``, if any."""
    for i in range(at - 1, limit - 1, -1):
        if text[i].isspace():
            return i
    return None
