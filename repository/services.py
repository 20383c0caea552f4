"""The resources one app holds (database, object store, importer) and how code reaches them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from repository import config as settings
from repository.actions.importing import Importer
from repository.db import Database
from repository.storage import ObjectStore, open_store

KEY = "kutubxona"


@dataclass
class Services:
    """Everything a request or a command needs besides Flask itself."""

    conf: dict[str, Any]
    db: Database
    store: ObjectStore

    @property
    def base_url(self) -> str:
        """The public root of the site."""
        return self.conf["BASE_URL"]

    @property
    def repository_id(self) -> str:
        """The namespace part of our OAI identifiers."""
        return self.conf["REPOSITORY_ID"]

    def importer(self) -> Importer:
        """An importer writing into this app's database and store."""
        return Importer(
            self.db, self.store, self.base_url, self.conf["IMPORT_CHUNK"], workers=self.conf["IMPORT_WORKERS"]
        )


def init_app(app: Flask, conf: dict[str, Any]) -> Services:
    """Open the database and the object store; on the embedded default, apply pending migrations."""
    db = Database(conf["DATABASE_URL"])
    auto = str(conf["AUTO_MIGRATE"]).lower()
    wanted = auto in ("yes", "true", "1") or (auto == "auto" and settings.is_embedded_sqlite(conf))
    if wanted and db.pending_migrations():
        db.upgrade()
    store = open_store(conf["STORAGE_URL"], endpoint=conf["S3_ENDPOINT"])
    services = Services(conf, db, store)
    app.extensions[KEY] = services
    return services


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions[KEY]
