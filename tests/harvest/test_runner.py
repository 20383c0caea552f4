"""Harvesting a live Kutubxona (a second instance) into this one: full, incremental, resumed, reconciled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from repository import create_app
from repository.catalogue.models import HarvestSource, Record
from repository.metadata import dc as dcmod
from tests.conftest import Cli, serving
from tests.harvest.quirks import QuirkServer, Reply, identify, list_records, record
from tests.helpers import age, import_json, marc, write
from tests.oai_client import OAI

# the sources of these tests are served on loopback, which harvests may reach only when allowed
pytestmark = pytest.mark.settings(HARVEST_ALLOW_PRIVATE="yes")

SOURCE_ID = "source.kutubxona.uz"


class Source:
    """A second Kutubxona instance, on its own database, served on a loopback port."""

    def __init__(self, tmp_path: Path) -> None:
        self.app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'source.sqlite3'}",
                "VAR_DIR": str(tmp_path / "source-var"),
                "REPOSITORY_ID": SOURCE_ID,
                "BASE_URL": "http://source.test",
                "AUTO_MIGRATE": "yes",
                "OAI_PAGE_SIZE": 7,
            }
        )
        self.cli = Cli(self.app)
        self.services = self.app.extensions["kutubxona"]
        self.url = ""

    def records(self) -> dict[str, Record]:
        with self.services.db.reading() as s:
            return {r.local_id: r for r in s.scalars(select(Record))}

    def settle(self) -> None:
        age(self.services, hours=1 / 60)  # a minute old: a list leaves out the second it is asked in


@pytest.fixture
def source(tmp_path: Path, sample_dir: Path) -> Iterator[Source]:
    src = Source(tmp_path)
    import_json(src.cli, sample_dir / "asosiy-marc21-utf8.mrc", sample_dir / "maqolalar-dc.xml")
    src.cli("delete", "KTB000004")
    age(src.services)
    with serving(src.app) as url:
        src.url = url + "/oai"
        yield src
    src.services.db.dispose()


def harvested(services, name: str) -> dict[str, Record]:  # noqa: ANN001
    with services.db.reading() as s:
        rows = s.scalars(select(Record).where(Record.local_id.startswith(f"{name}:")))
        return {r.local_id.split(":", 1)[1]: r for r in rows}


def assert_mirror(src: Source, services, name: str, prefix: str) -> None:  # noqa: ANN001
    """What we hold from ``name`` is what the source has: same identifiers, deletions and content."""
    records = src.records().items()
    theirs = {f"oai:{SOURCE_ID}:{k}": r for k, r in records if prefix == "oai_dc" or r.flavour == "marc21"}
    ours = harvested(services, name)
    live = {i for i, r in theirs.items() if not r.deleted}
    assert live <= set(ours) <= set(theirs)  # a tombstone of a record we never had need not exist here
    for identifier, mine in ours.items():
        rec = theirs[identifier]
        assert mine.deleted == rec.deleted, identifier
        if rec.deleted:
            continue
        if prefix == "marc21":
            assert mine.source == rec.source  # MARC stays MARC, byte for byte in canonical form
        else:
            from repository.metadata.formats import prepare_source, render

            expected = dcmod.parse(render(prepare_source(rec.flavour, rec.source), rec.local_id, "http://source.test")
                                   ["oai_dc"].decode())  # fmt: skip
            assert dcmod.parse(mine.source).values == expected.values


@pytest.mark.parametrize("prefix", ["marc21", "oai_dc"])
def test_full_then_incremental_with_changes_and_deletions(cli, services, source: Source, tmp_path: Path, prefix: str):
    cli("harvest", "add", "src", source.url, "--prefix", prefix)
    first = json.loads(cli("harvest", "run", "src", "--json").output)
    assert first["records"] > 100 and first["pages"] > 10 and first.get("error") is None
    assert_mirror(source, services, "src", prefix)
    # the source changes: a new record, an edited one, a deletion
    import_json(source.cli, write(tmp_path / "new.mrc", marc("NEW1", "Yangi kitob"), marc("KTB000001", "Edited")))
    source.cli("delete", "KTB000002")
    source.settle()
    second = json.loads(cli("harvest", "run", "src", "--json").output)
    assert second["records"] < first["records"]  # incremental: only what changed (and the overlap)
    assert second["deleted"] >= 1
    assert_mirror(source, services, "src", prefix)
    status = json.loads(cli("harvest", "status", "--json").output)[0]
    assert status["status"] == "done" and status["last_response_date"]


def test_harvested_records_are_re_exposed_with_provenance(cli, services, source: Source, live: str):
    cli("harvest", "add", "src", source.url, "--prefix", "marc21")
    cli("harvest", "run", "src")
    age(services)
    from repository.metadata.identifiers import oai_identifier
    from tests.conftest import REPO_ID

    ours = oai_identifier(REPO_ID, f"src:oai:{SOURCE_ID}:KTB000001")
    assert ours == f"oai:{REPO_ID}:src:oai:{SOURCE_ID}:KTB000001"
    client = OAI(live)  # validates against the provenance schema too
    reply = client(verb="GetRecord", identifier=ours, metadataPrefix="marc21")
    origin = reply.xpath("//o:about/*[local-name()='provenance']/*[local-name()='originDescription']")[0]
    assert origin.get("altered") in ("true", "false") and origin.get("harvestDate")
    fields = {etree_local(c): c.text for c in origin}
    assert fields["baseURL"] == source.url and fields["identifier"] == f"oai:{SOURCE_ID}:KTB000001"
    assert fields["metadataNamespace"] == "http://www.loc.gov/MARC21/slim"
    in_set, _ = client.harvest("ListIdentifiers", metadataPrefix="oai_dc", set="source:src")
    assert len(in_set) == len(harvested(services, "src"))


def etree_local(el) -> str:  # noqa: ANN001
    return el.tag.split("}")[-1]


def test_full_reconciles_what_disappeared_without_a_deletion(cli, services, source: Source):
    cli("harvest", "add", "src", source.url, "--prefix", "oai_dc")
    cli("harvest", "run", "src")
    from repository.catalogue.models import RecordFormat, RecordKey, RecordSet, RecordVersion

    with source.services.db.transaction() as s:  # gone without a trace, as a deletedRecord=no source does
        rid = s.scalar(select(Record.id).where(Record.local_id == "KTB000007"))
        for model in (RecordFormat, RecordKey, RecordSet, RecordVersion):
            s.query(model).filter_by(record_id=rid).delete()
        s.query(Record).filter_by(id=rid).delete()
    report = json.loads(cli("harvest", "run", "src", "--full", "--json").output)
    assert report["deleted"] >= 1
    assert harvested(services, "src")[f"oai:{SOURCE_ID}:KTB000007"].deleted


def test_killed_harvest_is_finished_by_the_next_run(cli, services, source: Source, db_url: str, tmp_path: Path):
    cli("harvest", "add", "src", source.url, "--prefix", "marc21")
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_HARVEST_ALLOW_PRIVATE": "yes"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "repository.cli", "harvest", "run", "src"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with services.db.reading() as s:
            pages = s.scalar(select(HarvestSource.run_pages))
        if pages and pages >= 3:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # kill -9, mid-harvest
    proc.wait()
    with services.db.reading() as s:
        state = s.scalar(select(HarvestSource))
        assert state.status == "running" and state.run_token  # the position survived
        partial = s.scalar(select(func.count()).select_from(Record))
    assert 0 < partial < len(source.records())
    report = json.loads(cli("harvest", "run", "src", "--json").output)
    assert report["resumed"] is True
    assert_mirror(source, services, "src", "marc21")
    with services.db.reading() as s:  # nothing twice
        rows = s.execute(select(Record.local_id, func.count()).group_by(Record.local_id)).all()
    assert all(n == 1 for _, n in rows)


def test_expired_token_restarts_the_window(cli, services, tmp_path: Path):
    calls: list[dict[str, str]] = []

    def script(args: dict[str, str]) -> Reply:
        calls.append(args)
        if args["verb"] == "Identify":
            return Reply(identify("YYYY-MM-DD"))
        if args.get("resumptionToken") == "stale":
            from tests.harvest.quirks import error

            return Reply(error("badResumptionToken"))
        if args.get("resumptionToken") == "t2":
            return Reply(list_records([record("oai:q:2")], token=""))
        return Reply(list_records([record("oai:q:1")], token="t2"))

    with QuirkServer(script).running() as server:
        cli("harvest", "add", "q", server.url)
        with services.db.transaction() as s:  # as if a run died holding a token that has since expired
            src = s.scalar(select(HarvestSource))
            src.status, src.run_token, src.run_from, src.granularity = "running", "stale", "2024-05-01", "YYYY-MM-DD"
        report = json.loads(cli("harvest", "run", "q", "--json").output)
    assert report["records"] == 2 and report["resumed"]
    restarted = [c for c in calls if c.get("verb") == "ListRecords" and "resumptionToken" not in c]
    assert restarted == [{"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-05-01"}]  # same window
    assert set(harvested(services, "q")) == {"oai:q:1", "oai:q:2"}


def test_day_granularity_and_exit_statuses(cli, services, tmp_path: Path):
    bad = "<record><header><identifier>oai:q:bad</identifier><datestamp>2024-01-01</datestamp></header>" \
          "<metadata><x:unknown xmlns:x='urn:x'/></metadata></record>"  # fmt: skip
    sent: list[dict[str, str]] = []

    def script(args: dict[str, str]) -> Reply:
        sent.append(args)
        if args["verb"] == "Identify":
            return Reply(identify("YYYY-MM-DD", date="2024-06-02T10:00:00Z"))
        return Reply(list_records([record("oai:q:1"), bad], date="2024-06-02T10:00:01Z"))

    with QuirkServer(script).running() as server:
        cli("harvest", "add", "q", server.url)
        result = cli("harvest", "run", "q", code=1)  # a record set aside: done, with a report
        assert "set aside: oai:q:bad" in result.output
        cli("harvest", "run", "q", code=1)
    lists = [a for a in sent if a["verb"] == "ListRecords"]
    assert "from" not in lists[0] and lists[1]["from"] == "2024-06-02"  # day granularity: the whole day again
    cli("harvest", "run", "nosuch", code=2)
    cli("harvest", "add", "bad name", "http://x", code=2)
    down = QuirkServer(lambda a: Reply(b"<html>no</html>", 404))
    with down.running() as server:
        cli("harvest", "add", "gone", server.url)
        assert "NotOAI" in cli("harvest", "run", "gone", code=2).output
