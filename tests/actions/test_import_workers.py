"""Importing through worker processes: the same catalogue, report and batch as importing in one process."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from repository.actions.importing import Importer, ImportOptions
from repository.catalogue.models import BatchItem, ImportBatch, Record, RecordFormat, RecordKey
from repository.db import Base
from repository.metadata import sample
from repository.metadata.formats import render
from repository.metadata.marc import ControlField, DataField, MarcRecord, to_iso2709
from repository.metadata.preparing import WorkerLost, prepared_records
from tests.helpers import marc, write


def _mixed_file(sample_dir: Path, path: Path) -> Path:
    """Every sample ISO 2709 file, broken records, an authority record and local-identifier clashes."""
    parts = [p.read_bytes() for p in sorted(sample_dir.glob("*.mrc"))]
    clash = MarcRecord(  # the sample's first 001 again, from another organisation: it must become 003-001
        "00000nam a2200000 i 4500",
        [ControlField("001", "KTB000000"), ControlField("003", "OTHER"), DataField("245", "1", "0", (("a", "X"),))],
    )
    authority = marc("AUT1", "Navoiy, Alisher", leader="00000nz  a2200000n  4500")
    parts += [
        to_iso2709(clash),
        to_iso2709(authority),
        to_iso2709(marc("B1", "Once"))[:40] + b"\x1d",  # truncated
        b"not a record at all\x1d",
        to_iso2709(marc("B2", "Twice")),
        to_iso2709(marc("B2", "Twice, changed")),  # same key in one batch: an update of the record before
        to_iso2709(marc("B3", "Bad\x01 control character")),
    ]
    path.write_bytes(b"".join(parts))
    return path


def _catalogue(services) -> dict:  # noqa: ANN001
    """What an import left behind, by local identifier (row ids aside)."""
    with services.db.reading() as s:
        ids = dict(s.execute(select(Record.id, Record.local_id)).all())
        records = {
            r.local_id: (r.flavour, r.source, r.content_hash, r.title, r.author, r.year, r.kind, r.language, r.version)
            for r in s.scalars(select(Record))
        }
        formats = {(ids[f.record_id], f.prefix): f.xml for f in s.scalars(select(RecordFormat))}
        keys = sorted((ids[k.record_id], k.kind, k.value) for k in s.scalars(select(RecordKey)))
        items = sorted(
            (i.position, i.offset, i.outcome, i.reason, i.raw, i.local_id) for i in s.scalars(select(BatchItem))
        )
    return {"records": records, "formats": formats, "keys": keys, "items": items}


def _empty(services) -> None:  # noqa: ANN001
    with services.db.transaction() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(table.delete())


def test_workers_import_exactly_what_one_process_imports(app, services, sample_dir: Path, tmp_path: Path):
    path = _mixed_file(sample_dir, tmp_path / "mixed.mrc")
    runs = {}
    for workers in (0, 1):
        importer = Importer(services.db, services.store, services.base_url, chunk=50, workers=workers,
                            parallel_min_bytes=0)  # fmt: skip
        report = importer.import_file(path, ImportOptions())
        catalogue = _catalogue(services)
        again = importer.import_file(path, ImportOptions())
        runs[workers] = (report.counts, report.problems, catalogue, again.counts)
        _empty(services)
    serial, parallel = runs[0], runs[1]
    assert parallel[0] == serial[0]
    assert parallel[1] == serial[1]
    assert parallel[2] == serial[2]
    assert parallel[3] == serial[3]
    counts, _, catalogue, again = serial
    assert again["created"] == 0 and again["updated"] == 2  # B2 twice: each copy updates the other
    assert counts["rejected"] == 2 and counts["skipped"] == 1 and counts["warnings"] >= 1  # B3 loses its \x01
    assert "OTHER-KTB000000" in catalogue["records"]  # rendered under the identifier it really got
    assert b"/records/OTHER-KTB000000" in catalogue["formats"][("OTHER-KTB000000", "oai_dc")]


def test_records_come_back_from_the_worker_prepared_and_rendered_in_file_order(sample_dir: Path, tmp_path: Path):
    path = _mixed_file(sample_dir, tmp_path / "mixed.mrc")
    with open(path, "rb") as fh:
        pairs = list(prepared_records(fh, base_url="http://kutubxona.test", workers=1))
    assert [item.position for item, _ in pairs] == list(range(1, len(pairs) + 1))
    prepared = [p for _, p in pairs if p is not None]
    assert prepared and all(p.marc is None and p.rendered is not None for p in prepared)  # made in the worker
    first = prepared[0]
    assert first.rendered_as == (first.local_ids()[0], "http://kutubxona.test")
    assert render(first, *first.rendered_as) is first.rendered
    fresh = render(first, "another-id", "http://kutubxona.test")  # re-derived from the source
    assert b"/records/another-id" in fresh["oai_dc"] and fresh["marc21"] == first.rendered["marc21"]


def test_a_lost_worker_fails_the_batch_cleanly_and_importing_again_finishes(services, tmp_path: Path):
    records = [sample._marc21_book(i, ("uzb", "rus", "eng")[i % 3], "book") for i in range(3000)]
    for i, rec in enumerate(records):
        rec.fields[0] = ControlField("001", f"W{i:05d}")  # one 001 each: 3,000 records
    path = write(tmp_path / "big.mrc", *records)
    importer = Importer(services.db, services.store, services.base_url, chunk=50, workers=1, parallel_min_bytes=0)

    def kill_the_workers(_bytes: int, _records: int) -> None:
        for child in multiprocessing.active_children():
            child.kill()

    with pytest.raises(WorkerLost, match="import the file again"):
        importer.import_file(path, ImportOptions(), progress=kill_the_workers)
    with services.db.reading() as s:
        batch = s.scalars(select(ImportBatch)).one()
        stored = s.scalar(select(func.count()).select_from(Record))
    assert batch.status == "failed" and batch.records == batch.created == stored  # whole chunks, counted
    assert 0 < stored < 3000
    again = importer.import_file(path, ImportOptions())
    assert again.counts["created"] + again.counts["unchanged"] == 3000 and again.counts["unchanged"] == stored


def test_progress_counts_the_bytes_of_the_records_stored_not_of_the_file_read_ahead(services, tmp_path: Path):
    records = [marc(f"P{i:05d}", f"Title {i}") for i in range(1200)]
    path = write(tmp_path / "p.mrc", *records)
    ends = [len(to_iso2709(r)) for r in records]
    ends = [sum(ends[: i + 1]) for i in range(len(ends))]  # where record i+1 ends in the file
    seen: list[tuple[int, int]] = []
    importer = Importer(services.db, services.store, services.base_url, chunk=100, workers=1, parallel_min_bytes=0)
    importer.import_file(path, ImportOptions(), progress=lambda done, n: seen.append((done, n)))
    assert [n for _, n in seen] == [*range(100, 1201, 100), 1200]
    assert all(done == ends[n - 1] for done, n in seen)


def test_the_console_script_starts_workers_without_loading_the_command_line():
    import subprocess
    import sys
    from importlib.metadata import entry_points

    # spawning a worker runs the parent's main script again: what the script imports, every worker loads
    (script,) = entry_points(group="console_scripts", name="kutubxona")
    module = script.value.split(":")[0]
    check = (
        f"import sys, {module}; print(sorted(m for m in ('sqlalchemy', 'flask', 'repository.cli') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
