"""Search over every element of the bibliographic description and the full text of open files.

The catalogue is the truth and the index is derived from it: the ``Indexer`` follows the
catalogue's change feed after each commit, noting what changed; ``catch_up`` indexes what was
noted, and ``kutubxona reindex`` rebuilds everything.  ``fold`` is the one normalisation of index
and query, so that a query in either Uzbek script, with any apostrophe, finds a record written in
the other.  Two backends answer the same calls (``backend.Backend``): the embedded one (SQLite
FTS5) by default, and Elasticsearch or OpenSearch when ``KUTUBXONA_SEARCH_URL`` names one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repository.catalogue.feed import RecordChange
from repository.config import Settings
from repository.db import Database
from repository.search.backend import Backend, Hit, Results
from repository.search.documents import Document, to_index
from repository.search.query import Filters, Query, QueryError, parse
from repository.search.state import IndexState

__all__ = [
    "Backend",
    "Document",
    "Filters",
    "Hit",
    "Indexer",
    "Query",
    "REINDEX_GENERATION",
    "REINDEX_LAST",
    "QueryError",
    "Results",
    "SearchIndex",
    "catch_up",
    "open_search",
    "parse",
]


@dataclass
class SearchIndex:
    """A backend, and what this node remembers of indexing into it."""

    backend: Backend
    state: IndexState

    def close(self) -> None:
        """Let go of the backend and the state file."""
        self.backend.close()
        self.state.close()


def open_search(settings: Settings) -> SearchIndex:
    """The search index the settings name: Elasticsearch at SEARCH_URL, else the embedded one in VAR_DIR."""
    state = IndexState(settings.var_dir / "search-state.sqlite3")
    if settings.search_url:
        from repository.search.elastic import ElasticIndex

        return SearchIndex(ElasticIndex(settings.search_url, settings.search_index), state)
    from repository.search.embedded import EmbeddedIndex

    return SearchIndex(EmbeddedIndex(settings.var_dir / "search.sqlite3"), state)


class Indexer:
    """The change feed's subscriber: it notes the records that changed, for ``catch_up`` to index.

    Noting is cheap, so an import runs at its own speed; indexing a record (reading it again,
    folding every field) costs about as much as importing it, and is done when a search asks,
    or by ``kutubxona reindex`` (background workers, when they come, will do it continuously).
    """

    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    def __call__(self, changes: Sequence[RecordChange]) -> None:
        """Note every record that changed."""
        self.index.state.mark({c.record_id for c in changes})


#: names of what ``IndexState`` keeps of a reindex under way: the last record read, the generation filled
REINDEX_LAST, REINDEX_GENERATION = "reindex.last_id", "reindex.generation"


def catch_up(db: Database, index: SearchIndex, batch: int = 500) -> int:
    """Index every record noted since; how many (a deleted one is taken out).

    A note is forgotten only after the backend took the documents, so a backend that is down
    loses nothing: the next search or reindex indexes them.  While a reindex fills a new
    generation, changes go to it as well, or it would publish what it read before they happened.
    """
    done = 0
    while notes := index.state.pending(batch):
        with db.reading() as session:
            docs = to_index(session, [rid for rid, _ in notes])
        index.backend.update(docs)
        if building := index.state.get(REINDEX_GENERATION):
            index.backend.update(docs, building)
        index.state.unmark(notes)
        done += len(notes)
    return done
