"""Every real-world MARC file other projects test with: nothing crashes, every record accounted for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED, require
from tests.helpers import COUNTS

DATA = SHARED / "data" / "marc"
FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "MANIFEST.md") if DATA.exists() else []


def test_the_shared_marc_files_are_there():
    require(bool(FILES), f"real-world MARC files in {DATA}")


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(DATA)) for p in FILES])
def test_real_file_imports_without_losing_a_record(cli, path: Path, services):
    result = cli("import", "--json", path, code=None)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    report = lines[0]
    if result.exit_code == 2:
        assert report["error"]  # a file in no format we read: said in one line
        return
    assert sum(report[k] for k in COUNTS) == report["records"] > 0
    rejected = [p for p in report["problems"] if p["outcome"] == "rejected"]
    assert len(rejected) == report["rejected"]
    assert all(p["reason"] and (p["offset"] is not None or p["line"] is not None) for p in rejected)
    assert (result.exit_code == 1) == bool(report["rejected"])
