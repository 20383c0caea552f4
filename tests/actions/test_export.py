"""Exporting: the union catalogue's ISO 2709 file round-trips; what a format cannot hold is reported."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from lxml import etree

from repository.metadata.marc import DataField, to_iso2709
from tests.conftest import require
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
    result = cli("export", "--format", "marcxml", "--out", xml_out)  # the DC records too, as MARC 21
    assert "90 records written" in result.output
    assert len(etree.parse(str(xml_out)).getroot()) == 90
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
    assert f100.get("a")[26:30] == "50  " and exported.leader[9] == " "  # UNIMARC leaves leader/09 blank
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


# ------------------------------------------------------------------------------------------ the whole catalogue


def yaz_marcdump(path: Path, *args: str) -> str:
    """What yaz-marcdump reads from ``path`` (its MARC line format); it must read it without complaint."""
    require(shutil.which("yaz-marcdump") is not None, "yaz-marcdump (Debian: yaz)")
    done = subprocess.run(["yaz-marcdump", *args, str(path)], capture_output=True, timeout=60)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout.decode("utf-8")


def test_the_whole_catalogue_exports_as_iso2709_with_exit_0(cli, sample_dir: Path, tmp_path: Path):
    import pymarc

    from repository.metadata.unimarc import check_100a

    total = sum(
        r["created"] for r in import_json(cli, *sorted(sample_dir.glob("*.mrc")), sample_dir / "maqolalar-dc.xml")
    )
    out = tmp_path / "monthly.mrc"
    result = cli("export", "--format", "iso2709", "--out", out)  # exit 0: a cron job sees success
    assert f"{total} records written" in result.output and "could not" not in result.output
    with out.open("rb") as fh:
        records = list(pymarc.MARCReader(fh, to_unicode=True, force_utf8=True))
    assert len(records) == total == 386 and None not in records
    converted = [r for r in records if r.get("042") is not None]
    assert len(converted) == 40  # the Dublin Core articles, through the LoC DC-to-MARC crosswalk
    for rec in converted:
        assert rec["042"]["a"] == "dc" and rec["884"]["u"] == "https://www.loc.gov/marc/dccross.html"
        assert tuple(rec["245"].indicators) == ("0", "0") and rec["245"]["a"]
        assert rec["720"]["e"] == "author" and rec["653"]["a"] and rec["520"]["a"]
        assert rec["260"]["b"] and rec["260"]["c"] and rec["856"]["u"].startswith("https://doi.org/")
        assert rec["655"]["2"] in ("dct", "local") and rec["041"]["a"] in ("uzb", "rus", "eng")
        assert rec["540"]["a"] == "CC BY 4.0" and rec["787"]["n"]
        assert rec.leader[6:8] == "aa" and rec.leader[9] == "a" and len(rec["008"].data) == 40
    unimarc = [r for r in records if r.get("200") is not None]
    assert len(unimarc) == 90
    for rec in unimarc:  # UNIMARC: a blank leader/09, the 450 directory map, a complete 100 $a
        assert rec.leader[9] == " " and rec.leader[20:24] == "450 "
        assert check_100a(rec["100"]["a"]) == [] and rec["100"]["a"][26:30] == "50  "
    dump = yaz_marcdump(out)
    assert dump.count("\n042    $a dc\n") == 40 and dump.count(" 450 \n001 ") == 90  # UNIMARC labels too


def test_dublin_core_records_are_marcxml_marc21_and_valid(cli, sample_dir: Path, tmp_path: Path):
    import pymarc

    from tests.schemas import assert_valid

    import_json(cli, sample_dir / "maqolalar-dc.xml", sample_dir / "asosiy-marc21-utf8.mrc")
    out = tmp_path / "all.xml"
    result = cli("export", "--format", "marcxml", "--out", out)
    assert result.exit_code == 0 and "could not" not in result.output
    doc = etree.parse(str(out)).getroot()
    assert etree.QName(doc).namespace == "http://www.loc.gov/MARC21/slim"  # no UNIMARC: MARC21slim
    assert_valid(out.read_bytes(), "MARC21slim.xsd")
    records = pymarc.parse_xml_to_array(str(out))
    converted = [r for r in records if r.get("042") is not None]
    assert len(converted) == 40 and all(r["884"]["k"].startswith("oai:test.kutubxona.uz:") for r in converted)
    assert yaz_marcdump(out, "-i", "marcxml").count("$a dc") >= 40


def test_unimarc_exports_carry_a_complete_100a(cli, tmp_path: Path):
    import pymarc

    from repository.metadata.marc import ControlField, MarcRecord, parse_iso2709
    from repository.metadata.unimarc import check_100a

    short = "20230115d1995    u  y0uzby50    ba"  # 34 characters: the script code in 32-33
    records = [
        MarcRecord("00000nam0 22000001i 450 ", [
            ControlField("001", "U1"), DataField("100", " ", " ", (("a", short),)),
            DataField("200", "1", " ", (("a", "Oʻzbekiston tarixi"),)), DataField("101", "0", " ", (("a", "uzb"),))]),
        MarcRecord("00000nam0 22000001i 450 ", [
            ControlField("001", "U2"), DataField("101", "0", " ", (("a", "rus"),)),
            DataField("200", "1", " ", (("a", "История Узбекистана"),)),
            DataField("210", " ", " ", (("a", "Москва"), ("c", "Наука"), ("d", "2001")))]),
    ]  # fmt: skip
    path = tmp_path / "uz.mrc"
    path.write_bytes(b"".join(to_iso2709(r) for r in records))
    import_json(cli, path, "--flavour", "unimarc")
    out = tmp_path / "out.mrc"
    cli("export", "--format", "iso2709", "--out", out)
    exported = {}
    for raw in out.read_bytes().split(b"\x1d")[:-1]:
        rec = parse_iso2709(raw + b"\x1d").record
        exported[rec.control("001")] = rec
    kept = exported["U1"].first("100", "a")
    assert check_100a(kept) == [] and len(kept) == 36
    assert kept[:26] == short[:26] and kept[26:30] == "50  " and kept[30:34] == "    " and kept[34:] == "ba"
    made = exported["U2"].first("100", "a")  # none in the source: made from the record and its dates
    assert check_100a(made) == [] and made[8:13] == "d2001" and made[26:30] == "50  " and made[34:] == "ca"
    assert [f.tag for f in exported["U2"].fields] == ["001", "100", "101", "200", "210"]
    for rec in exported.values():
        assert rec.leader[9] == " " and rec.leader[20:24] == "450 "
    with out.open("rb") as fh:
        assert [r["100"]["a"] for r in pymarc.MARCReader(fh, to_unicode=True, force_utf8=True)] == [kept, made]
    assert "100    $a " + kept in yaz_marcdump(out)
    xml = tmp_path / "out.xml"
    cli("export", "--format", "marcxml", "--out", xml)
    labels = etree.parse(str(xml)).getroot().xpath("//*[local-name()='leader']/text()")
    assert [label[9] + label[20:] for label in labels] == [" 450 ", " 450 "]


def test_converted_records_name_the_library_by_its_marc_code(make_app, sample_dir: Path, tmp_path: Path):
    import pymarc

    from tests.conftest import Cli

    cli = Cli(make_app(MARC_ORG_CODE="UzNL"))
    import_json(cli, sample_dir / "maqolalar-dc.xml")
    out = tmp_path / "dc.mrc"
    cli("export", "--format", "iso2709", "--out", out)
    with out.open("rb") as fh:
        first = next(iter(pymarc.MARCReader(fh, to_unicode=True, force_utf8=True)))
    assert first["003"].data == "UzNL" and first["040"]["a"] == first["040"]["c"] == "UzNL"
    assert first["884"]["q"] == "UzNL" and first["884"]["k"] == f"oai:test.kutubxona.uz:{first['001'].data}"
