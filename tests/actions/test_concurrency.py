"""Two imports at once, an import killed mid-way, and offsets past 2 GiB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from repository.catalogue.models import BatchItem, ImportBatch, Record, RecordKey
from tests.conftest import Cli
from tests.helpers import import_json, marc, write


def start_import(db_url: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_IMPORT_CHUNK": "100",
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


def test_offsets_past_2_gib_are_kept(cli: Cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("O1", "Bir")))
    far = 3 * 1024**3 + 17
    with services.db.transaction() as s:
        s.add(BatchItem(batch_id=1, position=9, offset=far, outcome="warning", reason="far into a big file"))
    with services.db.reading() as s:
        assert s.scalar(select(BatchItem.offset).where(BatchItem.position == 9)) == far
