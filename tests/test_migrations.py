"""The migrations build exactly the schema the models describe, and step down and up again without loss."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from repository.catalogue.models import Record, RecordFormat
from repository.db import Base, Database
from repository.metadata.marcxml import with_schema_location
from tests.conftest import Cli
from tests.helpers import import_json, marc, write


def test_the_migrated_schema_is_the_models_schema(db_url: str):
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        db.dispose()


def test_stepping_below_0004_writes_out_each_marc21_payload_kept_as_the_source(cli: Cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("M1", "One"), marc("M2", "Two")))
    db = services.db
    with db.transaction() as s:
        expected = {
            rid: with_schema_location(source).encode() for rid, source in s.execute(select(Record.id, Record.source))
        }
    db.engine.dispose()
    try:
        db.downgrade("0003")
        with db.engine.connect() as conn:
            rows = conn.execute(select(RecordFormat.record_id, RecordFormat.xml).where(RecordFormat.prefix == "marc21"))
            assert dict(rows.all()) == expected
    finally:
        db.upgrade()
    assert not db.pending_migrations()
