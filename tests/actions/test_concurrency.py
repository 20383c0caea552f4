"""Two imports at once, an import killed mid-way, and offsets past 2 GiB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from repository.actions.importing import Importer, ImportOptions
from repository.catalogue.models import BatchItem, ImportBatch, Record, RecordKey
from repository.errors import Handback
from repository.metadata.marcxml import to_marcxml
from tests.conftest import Cli
from tests.helpers import import_json, marc, write


def start_import(db_url: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_IMPORT_CHUNK": "100",
           "KUTUBXONA_STORAGE_URL": (tmp_path / "objects").as_uri(),
           "KUTUBXONA_IMPORT_WORKERS": "0"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "repository.cli", "import", "--json", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_two_imports_at_once_add_up_without_duplicates(db_url: str, tmp_path: Path, services):
    a = write(tmp_path / "a.mrc", *[marc(f"C{n:05}", f"Kitob {n}") for n in range(0, 3000)])
    b = write(tmp_path / "b.mrc", *[marc(f"C{n:05}", f"Kitob {n}") for n in range(1500, 4500)])
    procs = [start_import(db_url, tmp_path, str(a)), start_import(db_url, tmp_path, str(b))]
    outs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err
    reports = [json.loads(out) for out, _ in outs]
    assert sum(r["created"] for r in reports) == 4500  # each record created once, by one of them
    assert sum(r["unchanged"] for r in reports) == 1500  # the other found it stored
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 4500
        keys = s.execute(select(RecordKey.value, func.count()).where(RecordKey.kind == "ctl").group_by(RecordKey.value))
        assert {n for _, n in keys} == {1}


def test_a_killed_import_shows_as_interrupted_and_importing_again_completes_it(cli: Cli, db_url: str, tmp_path: Path,
                                                                               services):  # fmt: skip
    big = write(tmp_path / "big.mrc", *[marc(f"K{n:05}", f"Kitob {n}") for n in range(20_000)])
    proc = start_import(db_url, tmp_path, str(big))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with services.db.reading() as s:
            done = s.scalar(select(ImportBatch.records))
        if done:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    listed = cli("batches", "list").stdout
    assert "\tinterrupted\tbig.mrc" in listed
    report = import_json(cli, big)[0]
    assert report["records"] == 20_000 and report["created"] + report["unchanged"] == 20_000
    assert report["unchanged"] > 0  # what the killed import had stored
    first = json.loads(cli("batches", "show", "1", "--json").stdout)
    assert (first["status"], first["message"]) == ("interrupted", f"completed by batch {report['batch']}")
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 20_000


def test_a_killed_import_is_resumed_into_its_own_batch_from_its_first_record_not_stored(
    cli: Cli, db_url: str, tmp_path: Path, services
):
    big = write(tmp_path / "big.mrc", *[marc(f"K{n:05}", f"Kitob {n}") for n in range(20_000)])
    proc = start_import(db_url, tmp_path, str(big))
    while not _stored(services) and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = _stored(services)
    assert 0 < before < 20_000
    result = cli("batches", "resume", "1", "--json")
    report = json.loads(result.stdout)
    assert (report["batch"], report["records"], report["created"], report["unchanged"]) == (1, 20_000, 20_000, 0)
    assert json.loads(cli("batches", "show", "1", "--json").stdout)["status"] == "done"
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 20_000
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 1
    assert "complete: nothing to resume" in cli("batches", "resume", "1", code=2).stderr


def _stored(services) -> int:  # noqa: ANN001
    with services.db.reading() as s:
        return s.scalar(select(ImportBatch.records)) or 0


def _collection(records: list[str]) -> bytes:
    body = "".join(records)
    return f'<collection xmlns="http://www.loc.gov/MARC21/slim">{body}</collection>'.encode()


@pytest.mark.parametrize("syntax", ["iso2709", "marcxml"])
def test_an_import_handed_back_at_each_chunk_ends_as_one_run_would(syntax: str, tmp_path: Path, services):
    records = [marc(f"H{n:04}", f"Kitob {n}") for n in range(450)]
    if syntax == "iso2709":
        broken = b"00042nam  2200000   4500garbage\x1d"
        path = write(tmp_path / "f.mrc", *records[:120], broken, *records[120:])
    else:
        parts = [to_marcxml(r, namespace="") for r in records]
        parts.insert(120, '<record><leader>broken</leader><datafield tag="24"/></record>')
        path = tmp_path / "f.xml"
        path.write_bytes(_collection(parts))
    importer = Importer(services.db, services.store, "http://localhost", chunk=100, workers=0)
    opened: list[int] = []
    importer.opened = opened.append
    steps = 0

    def step(read: int, _records: int) -> None:
        nonlocal steps
        if read < path.stat().st_size:  # as a job does: the end of the file is not a step to hand back
            steps += 1
            raise Handback

    with pytest.raises(Handback):
        importer.import_file(path, ImportOptions(), step)
    while True:
        try:
            report = importer.resume(opened[0], step)
            break
        except Handback:
            continue
    assert steps == 4 and len(opened) == 1  # one chunk at a time, into the one batch
    assert (report.counts["records"], report.counts["created"], report.counts["rejected"]) == (451, 450, 1)
    assert [p["position"] for p in report.problems if p["outcome"] == "rejected"] == [121]
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 450
        assert s.scalar(select(ImportBatch.status)) == "done"
    # a job taken over after its import had closed the batch: the report as it stands, nothing read again
    assert importer.resume(opened[0], step).counts == report.counts and steps == 4


def test_offsets_past_2_gib_are_kept(cli: Cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("O1", "Bir")))
    far = 3 * 1024**3 + 17
    with services.db.transaction() as s:
        s.add(BatchItem(batch_id=1, position=9, offset=far, outcome="warning", reason="far into a big file"))
    with services.db.reading() as s:
        assert s.scalar(select(BatchItem.offset).where(BatchItem.position == 9)) == far
