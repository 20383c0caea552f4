"""Helpers the tests share: importing through the CLI, making MARC records, ageing datestamps."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from repository.catalogue.models import Record
from repository.metadata.marc import ControlField, DataField, MarcRecord, to_iso2709
from tests.conftest import Cli

COUNTS = ("created", "updated", "unchanged", "skipped", "rejected")


def import_json(cli: Cli, *args: str | Path, code: int | None = 0) -> list[dict]:
    """Run ``kutubxona import --json`` and return one report per file, checking the invariant."""
    result = cli("import", "--json", *args, code=code)
    reports = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    for r in reports:
        if "error" not in r:
            assert sum(r[k] for k in COUNTS) == r["records"], r
    return reports


def marc(ctl: str, title: str, *extra: DataField, leader: str = "00000nam a2200000 i 4500") -> MarcRecord:
    return MarcRecord(
        leader,
        [ControlField("001", ctl), ControlField("003", "UzNL"), DataField("245", "1", "0", (("a", title),)), *extra],
    )


def write(path: Path, *records: MarcRecord | bytes) -> Path:
    path.write_bytes(b"".join(r if isinstance(r, bytes) else to_iso2709(r) for r in records))
    return path


def count(services, *where) -> int:  # noqa: ANN001
    with services.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Record).where(*where))


def age(services, hours: float = 1) -> None:  # noqa: ANN001
    """Move every datestamp ``hours`` into the past, as if the records had been stored earlier."""
    with services.db.transaction() as s:
        for rid, stamp in s.execute(select(Record.id, Record.datestamp)).all():
            s.execute(update(Record).where(Record.id == rid).values(datestamp=stamp - timedelta(hours=hours)))
