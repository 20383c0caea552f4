"""Whole-repository harvests with real clients (Sickle, oaipmh-scythe), while the catalogue changes,
and through gunicorn with two workers, across a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sickle import Sickle

from repository.metadata.identifiers import oai_identifier
from tests.conftest import REPO_ID, free_port, serving
from tests.helpers import age, import_json, marc, write
from tests.oai_client import OAI

FORMATS = ("oai_dc", "marc21", "marcxchange")


@pytest.fixture
def catalogue(cli, sample_dir: Path, services, tmp_path: Path):  # noqa: ANN001, ANN201
    """The sample's MARC files, a few tombstones, all an hour old."""
    import_json(cli, sample_dir / "asosiy-marc21-utf8.mrc", sample_dir / "uzmarc-unimarc-utf8.mrc")
    for local in ("KTB000010", "UZM000010"):
        cli("delete", local)
    age(services)
    return services


def snapshot(services) -> dict[str, dict]:  # noqa: ANN001
    """Every record as it is now: local id -> (datestamp, deleted, formats)."""
    from sqlalchemy import select

    from repository.catalogue.models import Record, RecordFormat

    with services.db.reading() as s:
        formats: dict[int, set[str]] = {}
        for rid, prefix in s.execute(select(RecordFormat.record_id, RecordFormat.prefix)):
            formats.setdefault(rid, set()).add(prefix)
        return {
            r.local_id: {"datestamp": r.datestamp, "deleted": r.deleted, "formats": formats.get(r.id, set())}
            for r in s.scalars(select(Record))
        }


class Churn(threading.Thread):
    """Inserts, updates and deletes records while a harvest runs; remembers what it touched."""

    def __init__(self, cli, tmp_path: Path) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.cli, self.tmp_path = cli, tmp_path
        self.touched: set[str] = set()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set() and n < 40:
                new = f"CHURN{n}"
                path = write(self.tmp_path / f"churn{n}.mrc", marc(new, f"New {n}"),
                             marc(f"KTB{n * 3:06d}", f"Changed title {n}"))  # fmt: skip
                self.touched.update({new, f"KTB{n * 3:06d}", f"UZM{n + 20:06d}"})
                import_json(self.cli, path)
                self.cli("delete", f"UZM{n + 20:06d}")
                n += 1
                time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def check_harvest(before: dict[str, dict], prefix: str, got: Counter, deleted: set[str], touched: set[str]) -> None:
    """Every record untouched during the harvest arrived exactly once; tombstones as deleted headers."""
    for local, state in before.items():
        if local in touched or prefix not in state["formats"]:
            continue
        key = oai_identifier(REPO_ID, local)
        assert got[key] == 1, f"{key} arrived {got[key]} times in {prefix}"
        assert (key in deleted) == state["deleted"]
    assert max(got.values()) == 1  # nothing twice, touched or not


def headers_while_churning(make_app, catalogue, cli, tmp_path: Path, harvest) -> tuple:  # noqa: ANN001
    """Run ``harvest(url)`` (it returns the (identifier, deleted) pairs it saw) while records change."""
    with serving(make_app(OAI_PAGE_SIZE=7)) as url:
        before = snapshot(catalogue)
        churn = Churn(cli, tmp_path)
        churn.start()
        try:
            seen = harvest(url + "/oai")
        finally:
            churn.stop.set()
            churn.join()
    assert churn.error is None, churn.error
    return before, seen, churn.touched


def tally(seen: list[tuple[str, bool]]) -> tuple[Counter, set[str]]:
    """How often each identifier arrived, and which arrived deleted."""
    return Counter(i for i, _ in seen), {i for i, deleted in seen if deleted}


@pytest.mark.parametrize("prefix", FORMATS)
def test_sickle_harvest_while_records_change(make_app, catalogue, cli, tmp_path: Path, prefix: str):  # noqa: ANN001
    def harvest(url: str) -> tuple[list, list]:
        headers = [(h.identifier, h.deleted) for h in Sickle(url, max_retries=3).ListIdentifiers(metadataPrefix=prefix)]
        records = [(r.header.identifier, r.header.deleted)
                   for r in Sickle(url).ListRecords(metadataPrefix=prefix, ignore_deleted=False)]  # fmt: skip
        return headers, records

    before, (headers, records), touched = headers_while_churning(make_app, catalogue, cli, tmp_path, harvest)
    assert touched
    got, deleted = tally(headers)
    check_harvest(before, prefix, got, deleted, touched)
    check_harvest(before, prefix, tally(records)[0], deleted, touched)


@pytest.mark.parametrize("prefix", FORMATS)
def test_scythe_harvest_while_records_change(make_app, catalogue, cli, tmp_path: Path, prefix: str):  # noqa: ANN001
    from oaipmh_scythe import Scythe

    def harvest(url: str) -> list:
        with Scythe(url) as scythe:
            return [(r.header.identifier, r.header.deleted)
                    for r in scythe.list_records(metadata_prefix=prefix, ignore_deleted=False)]  # fmt: skip

    before, seen, touched = headers_while_churning(make_app, catalogue, cli, tmp_path, harvest)
    check_harvest(before, prefix, *tally(seen), touched)


# ------------------------------------------------------------------------------- gunicorn


def _gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "repository.wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def test_tokens_work_across_gunicorn_workers_and_a_restart(db_url: str, catalogue, tmp_path: Path):  # noqa: ANN001
    env = {
        **os.environ,
        "KUTUBXONA_DATABASE_URL": db_url,
        "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
        "KUTUBXONA_REPOSITORY_ID": REPO_ID,
        "KUTUBXONA_OAI_PAGE_SIZE": "7",
        "KUTUBXONA_AUTO_MIGRATE": "no",
    }
    port = free_port()
    server = _gunicorn(env, port)
    try:
        client = OAI(f"http://127.0.0.1:{port}")
        first = client(verb="ListRecords", metadataPrefix="oai_dc")
        items = first.xpath("//o:record")
        token = first.token.text
        for _ in range(5):  # consecutive pages land on either worker
            page = client(verb="ListRecords", resumptionToken=token)
            items += page.xpath("//o:record")
            token = page.token.text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    server = _gunicorn(env, port)  # restart: same secret key from VAR_DIR, no server state needed
    try:
        rest, _ = client.harvest("ListRecords", resumptionToken=token)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    ids = [r.find("{*}header").findtext("{*}identifier") for r in items + rest]
    assert len(ids) == len(set(ids)) == len(snapshot(catalogue))


def test_kutubxona_serve_runs_gunicorn_with_threads(db_url: str, catalogue, tmp_path: Path):  # noqa: ANN001
    port = free_port()
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "repository.cli", "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        reply = OAI(f"http://127.0.0.1:{port}")(verb="ListIdentifiers", metadataPrefix="oai_dc")
        assert reply.error is None and len(reply.xpath("//o:header")) == 100
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert b"OAI-PMH at" in proc.stdout.read()
