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


def unimarc_cp1251(ctl: str, title: str):  # noqa: ANN201
    from repository.metadata.marc import ControlField, MarcRecord

    f100 = "20230115d1995    u  y0rusy" + "89  " + "    ca"  # 100$a/26-29 "89  ": Windows-1251 (RUSMARC)
    assert f100[26:30] == "89  " and len(f100) == 36
    return MarcRecord("00000nam  2200000   4500", [
        ControlField("001", ctl), DataField("100", " ", " ", (("a", f100),)),
        DataField("200", "1", " ", (("a", title),)), DataField("101", "0", " ", (("a", "rus"),))])  # fmt: skip


def test_unimarc_written_in_utf8_says_so_in_100a(cli, tmp_path: Path, services):
    from repository.catalogue.oai_store import SqlStore
    from repository.metadata.marc import parse_iso2709

    path = tmp_path / "rusmarc.mrc"
    path.write_bytes(to_iso2709(unimarc_cp1251("RU1", "История Узбекистана"), "cp1251"))
    import_json(cli, path)
    out = tmp_path / "out.mrc"
    cli("export", "--format", "iso2709", "--out", out)
    exported = parse_iso2709(out.read_bytes()).record
    (f100,) = exported.datafields("100")
    assert f100.get("a")[26:30] == "50  " and exported.leader[9] == "a"
    assert exported.datafields("200")[0].get("a") == "История Узбекистана"
    with services.db.reading() as s:
        payload = SqlStore(s).get("RU1", "marcxchange").payload
    assert b"y0rusy50      ca" in payload  # the OAI payload says UTF-8 too
    assert import_json(cli, out)[0]["unchanged"] == 1  # and the round trip still changes nothing


def test_a_marcxml_export_with_unimarc_is_marcxchange(cli, tmp_path: Path):
    from tests.schemas import assert_valid

    path = tmp_path / "mixed.mrc"
    path.write_bytes(to_iso2709(unimarc_cp1251("RU1", "История"), "cp1251") + to_iso2709(marc("M1", "Book")))
    import_json(cli, path)
    out = tmp_path / "all.xml"
    cli("export", "--format", "marcxml", "--out", out)
    doc = etree.parse(str(out)).getroot()
    assert etree.QName(doc).namespace == "info:lc/xmlns/marcxchange-v2"
    assert sorted(r.get("format") for r in doc) == ["MARC21", "UNIMARC"]
    assert_valid(out.read_bytes(), "marcxchange.xsd")
    only = tmp_path / "m21.xml"
    cli("export", "--format", "marcxml", "--set", "none", "--out", only, code=2)  # an unknown set: an error
    import_json(cli, write(tmp_path / "b.mrc", marc("M2", "Other")), "--set", "fond", code=2)
    cli("sets", "add", "fond", "Fond")
    import_json(cli, write(tmp_path / "b.mrc", marc("M2", "Other")), "--set", "fond")
    cli("export", "--format", "marcxml", "--set", "fond", "--out", only)
    assert etree.QName(etree.parse(str(only)).getroot()).namespace == "http://www.loc.gov/MARC21/slim"
