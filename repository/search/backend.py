"""What a search backend is: the embedded one and Elasticsearch answer the same calls the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from rapidfuzz.distance import Levenshtein

from repository.search.documents import Indexed
from repository.search.query import Query

FACET_SIZES = {"type": 20, "lang": 20, "decade": 30, "subject": 15, "set": 30, "fulltext": 2}
MAX_WINDOW = 10_000  # deepest hit a page may reach (Elasticsearch's max_result_window)


def window(page: int, size: int) -> tuple[int, int]:
    """Where a page's hits start and how many it has, cut at ``MAX_WINDOW``: the engines serve no deeper hit,
    and refuse a page that would reach past it (30 a page, page 334 holds hits 9,991-10,000)."""
    start = (page - 1) * size
    return min(start, MAX_WINDOW), max(0, min(size, MAX_WINDOW - start))


def spelling_distance(word: str, candidate: str) -> int | None:
    """How far ``candidate`` is from a misspelt ``word``, if near enough to suggest (1 edit; 2 past 5 letters)."""
    limit = 1 if len(word) <= 5 else 2
    distance = Levenshtein.distance(word, candidate, score_cutoff=limit)
    return distance if distance <= limit else None


@dataclass(frozen=True)
class Hit:
    """A record that matched, best first: its catalogue id and relevance (higher is better)."""

    record_id: int
    score: float


@dataclass
class Results:
    """One page of hits, how many in all, and the facet counts of all of them."""

    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class Backend(Protocol):
    """A search index.  Documents are written in generations: a reindex fills a new one, then publishes it."""

    name: str
    outdated: bool  # the index was made by another version: searches wait for ``kutubxona reindex``

    def update(self, docs: Iterable[Indexed], generation: str | None = None) -> None:
        """Put these documents in the published generation (or in ``generation``); deleted ones are taken out."""

    def search(self, query: Query, page: int, size: int, sort: str, facets: bool = True) -> Results:
        """One page (1-based; cut by ``window``) of the records matching ``query``, sorted by one of ``SORTS``."""

    def suggest(self, words: list[str]) -> dict[str, str]:
        """For folded words the index does not hold, a close word it does (spelling: "did you mean")."""

    def known(self, words: list[tuple[str, bool]]) -> set[tuple[str, bool]]:
        """Which of these (folded word, as a prefix) pairs the index holds: the word, or a word beginning so."""

    def new_generation(self) -> str:
        """Start an empty generation for a reindex; its name."""

    def publish(self, generation: str) -> None:
        """Make ``generation`` the one searched, and drop the one it replaces."""

    def count(self) -> int:
        """How many records the published generation holds."""

    def close(self) -> None:
        """Let go of connections and files."""
