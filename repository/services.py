"""The resources one app or command holds: settings, database, object store, change feed.

No Flask here: the command line, the web app and background work open the same services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from repository.catalogue.feed import ChangeFeed
from repository.catalogue.stamps import StampLock, install_stamp_lock
from repository.config import Settings
from repository.db import Database
from repository.search import Indexer, SearchIndex, open_search
from repository.storage import ObjectStore, open_store

if TYPE_CHECKING:
    from repository.actions.importing import Importer


@dataclass
class Services:
    """Everything an action needs: the settings and the resources opened from them."""

    settings: Settings
    db: Database
    store: ObjectStore
    feed: ChangeFeed
    stamps: StampLock
    search: SearchIndex

    @property
    def base_url(self) -> str:
        """The public root of the site."""
        return self.settings.base_url

    @property
    def repository_id(self) -> str:
        """The namespace part of our OAI identifiers."""
        return self.settings.repository_id

    def importer(self) -> Importer:
        """An importer writing into this database and store."""
        from repository.actions.importing import Importer
        from repository.actions.unpacking import Bounds
        from repository.metadata.reading import Limits

        s = self.settings
        limits = Limits(record=s.import_max_record, field=s.import_max_field)
        bounds = Bounds(unpacked=s.import_max_unpacked, ratio=s.import_max_ratio)
        return Importer(self.db, self.store, s.base_url, s.import_chunk, workers=s.import_workers, limits=limits,
                        bounds=bounds)  # fmt: skip

    def close(self) -> None:
        """Close every pooled database connection and the search index."""
        self.db.dispose()
        self.search.close()


def open_database(settings: Settings) -> Database:
    """Open the database, applying pending migrations first when the settings ask (the embedded default)."""
    db = Database(settings.database_url)
    if settings.migrate_at_start and db.pending_migrations():
        db.upgrade()
    return db


def open_services(settings: Settings) -> Services:
    """Open the database and the object store; apply pending migrations when the settings ask."""
    db = open_database(settings)
    store = open_store(settings.storage_url, endpoint=settings.s3_endpoint)
    feed = ChangeFeed(db)
    index = open_search(settings)
    feed.subscribe("search", Indexer(index))  # the index follows every commit
    return Services(settings, db, store, feed, install_stamp_lock(db), index)
