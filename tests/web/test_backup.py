"""The backup drill of the README: dump the database, copy the object store, restore both into an
empty instance, and that instance serves the same OAI harvest and the same files."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import psycopg
from lxml import etree
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, Cli, require, serving
from tests.helpers import age, import_json, marc, write
from tests.web.test_site import get

OAI = {"o": "http://www.openarchives.org/OAI/2.0/"}


def harvest(url: str) -> list[bytes]:
    """Every record of a full ListRecords harvest (oai_dc), as bytes, in order."""
    records, query = [], "metadataPrefix=oai_dc"
    while True:
        root = etree.fromstring(get(f"{url}/oai?verb=ListRecords&{query}")[2])
        records += [etree.tostring(r, method="c14n") for r in root.xpath("//o:record", namespaces=OAI)]
        token = root.findtext(".//o:resumptionToken", namespaces=OAI)
        if not token:
            return records
        query = f"resumptionToken={token}"


def backup_and_restore(db_url: str, folder: Path) -> str:
    """Dump the database and load the dump into a new, empty one, as the README says; the new URL."""
    if not PG_URL:  # SQLite: the online backup API copies a consistent database while it is in use
        source, copy = make_url(db_url).database, folder / "restored.sqlite3"
        with sqlite3.connect(source) as live, sqlite3.connect(copy) as restored:
            live.backup(restored)
        return f"sqlite:///{copy}"
    require(shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None, "postgresql-client")
    url = make_url(db_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = folder / "kutubxona.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", plain], check=True)
    name = f"kx_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = url.set(database=name)
    restore = target.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={restore}", str(dump)], check=True)
    return target.render_as_string(hide_password=False)


def drop(db_url: str) -> None:
    if PG_URL:
        url = make_url(db_url)
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def test_a_restored_instance_serves_the_same_harvest_and_files(make_app, db_url: str, tmp_path: Path):  # noqa: ANN001
    app = make_app(SECRET_KEY="the same key after a restore keeps harvesters' tokens valid")
    cli = Cli(app)
    cli("sets", "add", "fond", "Fond")
    import_json(cli, write(tmp_path / "a.mrc", *(marc(f"R{n}", f"Kitob {n}") for n in range(25))), "--set", "fond")
    cli("delete", "R3")
    book = tmp_path / "kitob.txt"
    book.write_text("Saqlanadigan matn")
    cli("attach", "R5", book)
    age(app.extensions["kutubxona"])
    # the drill: the database dumped and restored, the objects copied to a new store
    restored_db = backup_and_restore(db_url, tmp_path)
    objects = tmp_path / "restored-objects"
    cli("storage", "copy", "--to", objects.as_uri())
    try:
        restored = make_app(DATABASE_URL=restored_db, STORAGE_URL=objects.as_uri(), VAR_DIR=str(tmp_path / "new"),
                            SECRET_KEY="the same key after a restore keeps harvesters' tokens valid")  # fmt: skip
        again = Cli(restored)
        checked = {c["name"]: c["status"] for c in json.loads(again("check", "--json", code=None).output)["checks"]}
        assert checked["database"] == checked["store"] == "ok"
        # the search index is derived, so it is rebuilt rather than backed up
        assert again("reindex").output.startswith("24 records in the embedded search index")
        with serving(app) as before, serving(restored) as after:
            original = harvest(before)
            assert len(original) == 25 and harvest(after) == original  # the tombstone and datestamps too
            assert get(f"{after}/records/R5/files/kitob.txt")[2] == b"Saqlanadigan matn"
            assert json.loads(get(f"{after}/api/search?q=kitob")[2])["total"] == 24
        restored.extensions["kutubxona"].db.dispose()
    finally:
        drop(restored_db)
