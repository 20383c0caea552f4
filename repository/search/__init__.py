"""Search over every element of the bibliographic description and the full text of open files.

The catalogue is the truth and the index is derived from it: the ``Indexer`` follows the
catalogue's change feed after each commit, and ``kutubxona reindex`` rebuilds it at any time.
``fold`` is the one normalisation of index and query, so that a query in either Uzbek script, with
any apostrophe, finds a record written in the other.  The embedded backend (SQLite FTS5) is the
one built so far; Elasticsearch is to come.
"""

from __future__ import annotations

from collections.abc import Sequence

from repository.catalogue.feed import RecordChange
from repository.config import ConfigError, Settings
from repository.db import Database
from repository.search.documents import documents
from repository.search.embedded import EmbeddedIndex, Hit, QueryError

__all__ = ["EmbeddedIndex", "Hit", "Indexer", "QueryError", "catch_up", "open_index"]


def open_index(settings: Settings) -> EmbeddedIndex:
    """The search index the settings name: the embedded one in ``VAR_DIR/search.sqlite3``."""
    if settings.search_url:
        raise ConfigError("KUTUBXONA_SEARCH_URL: the Elasticsearch backend is not built yet; leave it empty")
    return EmbeddedIndex(settings.var_dir / "search.sqlite3")


class Indexer:
    """The change feed's subscriber: it notes the records that changed, for ``catch_up`` to index.

    Noting is cheap, so an import runs at its own speed; indexing a record (reading it again,
    folding every field) costs about as much as importing it, and is done when a search asks,
    or by ``kutubxona reindex`` (background workers, when they come, will do it continuously).
    """

    def __init__(self, db: Database, index: EmbeddedIndex) -> None:
        self.db = db
        self.index = index

    def __call__(self, changes: Sequence[RecordChange]) -> None:
        """Note every record that changed."""
        self.index.mark({c.record_id for c in changes})


def catch_up(db: Database, index: EmbeddedIndex, batch: int = 500) -> int:
    """Index every record noted since; how many (a deleted one is taken out)."""
    done = 0
    while ids := index.pending(batch):
        with db.reading() as session:
            index.update(documents(session, ids))
        index.unmark(ids)
        done += len(ids)
    return done
