"""Exporting: the union catalogue's ISO 2709 file round-trips; what a format cannot hold is reported."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from repository.metadata.marc import DataField, to_iso2709
from tests.helpers import age, import_json, marc, write


def test_import_export_import_is_unchanged(cli, sample_dir: Path, tmp_path: Path):
    marc_files = sorted(sample_dir.glob("*.mrc"))
    total = sum(r["created"] for r in import_json(cli, *marc_files))
    out = tmp_path / "export.mrc"
    result = cli("export", "--format", "iso2709", "--out", out)
    assert f"{total} records written" in result.output
    report = import_json(cli, out)[0]
    assert report["records"] == total == report["unchanged"]


def test_export_reports_a_record_iso2709_cannot_hold(cli, tmp_path: Path):
    long_note = DataField("500", " ", " ", (("a", "x" * 10_000),))
    # the import file itself cannot carry it as ISO 2709, so it arrives as MARCXML
    xml = tmp_path / "long.xml"
    rec = marc("LONG", "Long", long_note)
    from repository.metadata.marcxml import to_marcxml

    xml.write_text(f"<collection>{to_marcxml(rec)}</collection>", encoding="utf-8")
    import_json(cli, xml)
    import_json(cli, write(tmp_path / "ok.mrc", marc("OK", "Fine")))
    out = tmp_path / "out.mrc"
    result = cli("export", "--format", "iso2709", "--out", out, code=1)
    assert "LONG: field 500" in result.output
    assert out.read_bytes() == to_iso2709(marc("OK", "Fine"))


def test_export_marcxml_and_oai_dc_by_set_and_date(cli, sample_dir: Path, tmp_path: Path):
    import_json(cli, sample_dir / "maqolalar-dc.xml", "--set", "maqolalar", code=2)  # no such set yet
    cli("sets", "add", "maqolalar", "Articles")
    import_json(cli, sample_dir / "maqolalar-dc.xml", "--set", "maqolalar")
    import_json(cli, sample_dir / "uzmarc-unimarc-utf8.mrc")
    out = tmp_path / "dc.xml"
    cli("export", "--format", "oai_dc", "--set", "maqolalar", "--out", out)
    doc = etree.parse(str(out))
    assert len(doc.getroot()) == 40
    xml_out = tmp_path / "m.xml"
    result = cli("export", "--format", "marcxml", "--out", xml_out, code=1)
    assert "40 records could not be exported" in result.output  # the DC records
    assert len(etree.parse(str(xml_out)).getroot()) == 50
    age(cli.app.extensions["kutubxona"], hours=48)
    import_json(cli, write(tmp_path / "new.mrc", marc("NEW", "Fresh")))
    since = tmp_path / "since.mrc"
    from datetime import UTC, datetime, timedelta

    day = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cli("export", "--format", "iso2709", "--since", day, "--out", since)
    assert since.read_bytes().count(b"\x1d") == 1
    cli("export", "--format", "iso2709", "--since", "yesterday", "--out", since, code=2)
    cli("export", "--format", "iso2709", "--set", "nosuch", "--out", since, code=2)
    assert json.loads(cli("sets", "list", "--json").output)[0]["records"] == 40
