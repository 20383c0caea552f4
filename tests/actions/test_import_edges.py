"""The edges of an import: a record is stored, rejected or reported, never silently gone.

A file cut short, a file that changes while it is read, a pipe, a compressed file, records in a
code page other than their file's, fields past their size, several files at once, Dublin Core in
other systems' wrappers, entities.
"""

from __future__ import annotations

import bz2
import gzip
import http.server
import json
import lzma
import os
import stat
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from repository.actions.importing import ImportOptions
from repository.catalogue.models import BatchItem
from repository.metadata.marc import to_iso2709
from tests.conftest import Cli
from tests.helpers import count, import_json, marc


def marcxml_record(n: int, title: str = "") -> str:
    return (f'<record><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">X{n}</controlfield>\n'
            f'<datafield tag="245" ind1="1" ind2="0"><subfield code="a">{title or f"Kitob {n}"}</subfield>'
            "</datafield></record>\n")  # fmt: skip


def marcxml(records: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
            + "".join(records) + "</collection>\n").encode()  # fmt: skip


def dc_record(n: int) -> str:
    return (f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Maqola {n}</dc:title>\n'
            f"<dc:identifier>urn:x:{n}</dc:identifier></oai_dc:dc>\n")  # fmt: skip


def rejected(report: dict) -> list[dict]:
    return [p for p in report["problems"] if p["outcome"] == "rejected"]


# ----------------------------------------------------------------------------------- a file cut short


@pytest.mark.parametrize("kind", ["marcxml", "dc"])
@pytest.mark.parametrize("cut", ["middle", "start tag", "end tag"])
def test_a_file_cut_short_rejects_its_unterminated_last_record(cli: Cli, tmp_path: Path, services, kind, cut):
    if kind == "marcxml":
        whole, start, end = marcxml([marcxml_record(n) for n in range(1, 69)]), b"<record", b"</record>"
    else:
        whole = ('<?xml version="1.0"?>\n<collection>\n' + "".join(dc_record(n) for n in range(1, 69))
                 + "</collection>\n").encode()  # fmt: skip
        start, end = b"<oai_dc:dc", b"</oai_dc:dc>"
    last = whole.rfind(start)
    at = {"middle": (last + whole.rfind(end)) // 2, "start tag": last + 4, "end tag": whole.rfind(end) + 5}[cut]
    data, tail = whole[:at], whole[last:at]
    path = tmp_path / "cut.xml"
    path.write_bytes(data)
    report = import_json(cli, path, code=1)[0]
    assert (report["records"], report["created"], report["rejected"]) == (68, 67, 1)
    (bad,) = rejected(report)
    assert bad["position"] == 68 and "cut short" in bad["reason"]
    assert bad["line"] == whole[:last].count(b"\n") + 1
    with services.db.reading() as s:
        assert s.scalar(select(BatchItem.raw).where(BatchItem.outcome == "rejected")) == tail  # its text, kept


def test_a_file_cut_after_its_last_record_loses_nothing(cli: Cli, tmp_path: Path):
    whole = marcxml([marcxml_record(n) for n in range(1, 69)])
    path = tmp_path / "cut.xml"
    path.write_bytes(whole[: whole.rfind(b"</collection>") + 4])
    assert import_json(cli, path)[0]["created"] == 68


# ----------------------------------------------------------------------------------- entities and DTDs

LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
RECORD_WITH = '<collection xmlns="http://www.loc.gov/MARC21/slim">' + marcxml_record(1, "Title &{};") + "</collection>"


class Recorder(http.server.BaseHTTPRequestHandler):
    """A web server that notes every request: an external DTD or entity must never be fetched."""

    asked: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        Recorder.asked.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY x "fetched">')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.asked = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.parametrize(
    ("doctype", "entity", "said"),
    [
        (f'<!DOCTYPE collection [<!ENTITY lol0 "lol">{LAUGHS}]>', "lol9", "entity-expansion"),
        ('<!DOCTYPE collection [<!ENTITY x SYSTEM "{secret}">]>', "x", "external entity &x;"),
        ('<!DOCTYPE collection [<!ENTITY x SYSTEM "{web}/x.ent">]>', "x", "external entity &x;"),
        ('<!DOCTYPE collection [<!ENTITY % p SYSTEM "{web}/p.dtd"> %p;]>', "x", "parameter entity %p;"),
        ('<!DOCTYPE collection SYSTEM "{web}/marc.dtd">', "amp", "external DTD"),
        ('<!DOCTYPE collection PUBLIC "-//X//DTD X//EN" "{web}/marc.dtd">', "amp", "external DTD"),
        (f'<!DOCTYPE collection [<!ENTITY big "{"x" * 5000}">]>', "big", "5000 characters"),
    ],
)
def test_entities_and_external_dtds_are_refused_in_one_line_and_never_fetched(
    cli: Cli, tmp_path: Path, services, recorder: str, doctype: str, entity: str, said: str
):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    path = tmp_path / "entities.xml"
    path.write_text('<?xml version="1.0"?>\n' + doctype.format(secret=secret.as_uri(), web=recorder) + "\n"
                    + RECORD_WITH.format(entity))  # fmt: skip
    result = cli("import", path, code=2)
    (line,) = result.stderr.strip().splitlines()
    assert "entities.xml: refused" in line and said in line and "Traceback" not in result.output
    assert Recorder.asked == [] and "TOP SECRET" not in result.output
    assert not list(services.store.keys())


@pytest.mark.parametrize("before", ["<!-- <a -->", "<?note <b?>", "<!-- <!DOCTYPE x> --><?x?>"])
def test_a_doctype_behind_comments_or_instructions_is_refused_too(cli: Cli, tmp_path: Path, before: str):
    path = tmp_path / "hidden.xml"
    path.write_text(f'<?xml version="1.0"?>\n{before}\n<!DOCTYPE collection [<!ENTITY lol0 "lol">{LAUGHS}]>\n'
                    + RECORD_WITH.format("lol9"))  # fmt: skip
    result = cli("import", path, code=2)
    (line,) = result.stderr.strip().splitlines()
    assert "hidden.xml: refused" in line and "entity-expansion" in line, result.output


def test_an_entity_for_a_character_is_not_refused(cli: Cli, tmp_path: Path, services):
    path = tmp_path / "nbsp.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE collection [<!ENTITY nbsp "&#160;"> <!-- ["quoted"] -->]>\n'
                    + RECORD_WITH.format("nbsp"))  # fmt: skip
    assert import_json(cli, path)[0]["created"] == 1
    # nor is a file whose DOCTYPE of entities is only written in a comment
    path.write_text('<?xml version="1.0"?>\n<!-- <!DOCTYPE x [<!ENTITY % p SYSTEM "p.dtd">]> -->\n'
                    + RECORD_WITH.replace("&{}", "{}").format("x"))  # fmt: skip
    assert import_json(cli, path)[0]["updated"] == 1  # code 0: read, not refused


# ----------------------------------------------------------------------------------- Dublin Core wrappers

DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
TERMS = 'xmlns:dcterms="http://purl.org/dc/terms/"'


def shown_dc(cli: Cli, ident: str) -> dict:
    return json.loads(cli("show", ident, "--format", "json").stdout)["dc"]


def test_record_elements_of_dc_elements_are_dublin_core(cli: Cli, tmp_path: Path):
    path = tmp_path / "records.xml"
    path.write_text(f'<?xml version="1.0"?>\n<records {DC} {TERMS}>\n'
                    "<record><dc:title>Oʻzbek adabiyoti</dc:title><dc:identifier>urn:r:1</dc:identifier></record>\n"
                    "<record><dcterms:title>Navoiy gʻazallari</dcterms:title><dcterms:issued>1991</dcterms:issued>"
                    "<dcterms:abstract>Tanlangan asarlar</dcterms:abstract><dcterms:isPartOf>Mumtoz adabiyot"
                    "</dcterms:isPartOf><dcterms:audience>talabalar</dcterms:audience>"
                    "<dc:identifier>urn:r:2</dc:identifier></record>\n</records>\n")  # fmt: skip
    report = import_json(cli, path)[0]
    assert (report["records"], report["created"]) == (2, 2)
    assert shown_dc(cli, "urn:r:1") == {"title": ["Oʻzbek adabiyoti"], "identifier": ["urn:r:1"]}
    assert shown_dc(cli, "urn:r:2") == {"title": ["Navoiy gʻazallari"], "description": ["Tanlangan asarlar"],
                                        "date": ["1991"], "identifier": ["urn:r:2"],
                                        "relation": ["Mumtoz adabiyot"]}  # fmt: skip
    (warning,) = [p for p in report["problems"] if p["outcome"] == "warning"]
    assert warning["position"] == 2 and "dcterms:audience" in warning["reason"]  # said, not silently gone


def test_sru_and_oai_metadata_wrappers(cli: Cli, tmp_path: Path):
    sru = tmp_path / "sru.xml"
    sru.write_text('<?xml version="1.0"?>\n<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/">'
                   "<records><record><recordSchema>info:srw/schema/1/dc-v1.1</recordSchema><recordData>"
                   f'<srw_dc:dc xmlns:srw_dc="info:srw/schema/1/dc-schema" {DC}><dc:title>SRU kitobi</dc:title>'
                   "<dc:identifier>urn:s:1</dc:identifier></srw_dc:dc></recordData></record></records>"
                   "</searchRetrieveResponse>\n")  # fmt: skip
    assert import_json(cli, sru)[0]["created"] == 1
    oai = tmp_path / "oai.xml"
    oai.write_text('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
                   "<identifier>oai:src:7</identifier><datestamp>2024-01-01</datestamp></header>"
                   f"<metadata {DC}><dc:title>Bare metadata</dc:title></metadata></record>"
                   "</ListRecords></OAI-PMH>")  # fmt: skip
    assert import_json(cli, oai)[0]["created"] == 1
    assert shown_dc(cli, "oai:src:7")["title"] == ["Bare metadata"]


def test_a_dspace_dublin_core_xml(cli: Cli, tmp_path: Path):
    path = tmp_path / "dublin_core.xml"
    path.write_text('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n<dublin_core schema="dc">\n'
                    '  <dcvalue element="title" qualifier="none" language="uz">Ilmiy maqolalar</dcvalue>\n'
                    '  <dcvalue element="contributor" qualifier="author">Karimov, A.</dcvalue>\n'
                    '  <dcvalue element="date" qualifier="accessioned">2021-03-04T10:00:00Z</dcvalue>\n'
                    '  <dcvalue element="date" qualifier="issued">2019</dcvalue>\n'
                    '  <dcvalue element="identifier" qualifier="uri">http://hdl.handle.net/123/45</dcvalue>\n'
                    '  <dcvalue element="description" qualifier="provenance">Submitted by admin</dcvalue>\n'
                    "</dublin_core>\n")  # fmt: skip
    report = import_json(cli, path)[0]
    assert report["created"] == 1
    shown = json.loads(cli("show", "http://hdl.handle.net/123/45", "--format", "json").stdout)
    assert shown["year"] == "2019" and shown["author"] == "Karimov, A."
    assert shown["dc"] == {"title": ["Ilmiy maqolalar"], "creator": ["Karimov, A."],
                           "date": ["2019", "2021-03-04T10:00:00Z"],
                           "identifier": ["http://hdl.handle.net/123/45"]}  # fmt: skip
    assert "dc.description.provenance" in report["problems"][0]["reason"]


def test_xml_without_records_says_what_was_expected(cli: Cli, tmp_path: Path):
    path = tmp_path / "mods.xml"
    path.write_text('<modsCollection xmlns="http://www.loc.gov/mods/v3"><mods><titleInfo><title>X</title>'
                    "</titleInfo></mods></modsCollection>")  # fmt: skip
    (report,) = import_json(cli, path, code=2)
    assert "no records found" in report["error"] and "<modsCollection>" in report["error"]
    assert "dc:" in report["error"] and "dublin_core.xml" in report["error"] and "MARCXML" in report["error"]


# ----------------------------------------------------------------------------------- sizes


def test_an_xml_field_or_record_past_its_maximum_is_rejected_and_kept(cli: Cli, tmp_path: Path, services):
    long_title = "Juda uzun sarlavha " * 6000  # 114,000 bytes: past the 100,000 of KUTUBXONA_IMPORT_MAX_FIELD
    many_fields = "".join(f'<datafield tag="500" ind1=" " ind2=" "><subfield code="a">{"Izoh " * 400}</subfield>'
                          "</datafield>" for _ in range(600))  # 1.2 MB of short notes  # fmt: skip
    path = tmp_path / "long.xml"
    path.write_bytes(marcxml([marcxml_record(1), marcxml_record(2, long_title), marcxml_record(3),
                              marcxml_record(4).replace("</record>", many_fields + "</record>")]))  # fmt: skip
    report = import_json(cli, path, code=1)[0]
    assert (report["records"], report["created"], report["rejected"]) == (4, 2, 2)
    field, record = rejected(report)
    assert field["position"] == 2 and "field 245 is 114,005 bytes" in field["reason"]
    assert "100,000" in field["reason"] and "KUTUBXONA_IMPORT_MAX_FIELD" in field["reason"]
    assert record["position"] == 4 and "KUTUBXONA_IMPORT_MAX_RECORD" in record["reason"]
    with services.db.reading() as s:
        kept = s.scalars(select(BatchItem.raw).where(BatchItem.outcome == "rejected")).all()
    assert len(kept[0]) > 114_000 and long_title.encode() in kept[0]  # kept whole, to be fixed


def test_the_xml_maximums_are_settings(make_app, tmp_path: Path):
    cli = Cli(make_app(IMPORT_MAX_FIELD=200_000))
    path = tmp_path / "long.xml"
    path.write_bytes(marcxml([marcxml_record(1, "x" * 150_000)]))
    assert import_json(cli, path)[0]["created"] == 1
    dc = tmp_path / "dc.xml"
    dc.write_text(
        f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" {DC}>'
        f"<dc:title>T</dc:title><dc:description>{'y' * 250_000}</dc:description></oai_dc:dc>"
    )
    (report,) = import_json(cli, dc, code=1)
    assert "dc:description is 250,000 bytes" in rejected(report)[0]["reason"]


def iso2709(fields: list[tuple[str, bytes]]) -> bytes:
    """An ISO 2709 record written as a broken exporter would, whatever the lengths (clipped to their digits)."""
    directory, data = b"", b""
    for tag, body in fields:
        body += b"\x1e"
        directory += tag.encode() + b"%04d%05d" % (min(len(body), 9999), min(len(data), 99999))
        data += body
    base = 24 + len(directory) + 1
    length = min(base + len(data) + 1, 99999)
    return b"%05dnam a22%05d i 4500" % (length, base) + directory + b"\x1e" + data + b"\x1d"


def test_iso2709_records_past_the_format_s_own_maximums_are_rejected(cli: Cli, tmp_path: Path):
    title = ("245", b"10\x1faKitob")
    path = tmp_path / "long.mrc"
    path.write_bytes(iso2709([("001", b"L1"), title])
                     + iso2709([("001", b"L2"), title, ("505", b"0 \x1fa" + b"Mundarija " * 1200)])
                     + iso2709([("001", b"L3"), title] + [("500", b"  \x1fa" + b"z" * 9000)] * 12)
                     + iso2709([("001", b"L4"), title]))  # fmt: skip
    report = import_json(cli, path, code=1)[0]
    assert (report["records"], report["created"], report["rejected"]) == (4, 2, 2)
    field, record = rejected(report)
    assert "field 505 is 12,005 bytes; ISO 2709 allows 9,999" in field["reason"]
    assert "record is 108,267 bytes; ISO 2709 allows 99,999" in record["reason"]


# ----------------------------------------------------------------------------------- several files


def test_exit_status_of_several_files_follows_the_readme(cli: Cli, tmp_path: Path, services):
    good = tmp_path / "good.xml"
    good.write_bytes(marcxml([marcxml_record(1)]))
    empty = tmp_path / "empty.mrc"
    empty.write_bytes(b"")
    result = cli("import", "--json", good, empty, tmp_path / "missing.mrc", code=1)  # some done: 1, not 2
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["created"] for r in reports] == [1, 0, 0] and [bool(r.get("error")) for r in reports] == [0, 1, 1]
    plain = cli("import", good, empty, code=1)
    assert "good.xml: 1 records" in plain.stdout and "empty.mrc: the file is empty" in plain.stderr
    cli("import", empty, tmp_path / "missing.mrc", code=2)  # nothing could be done
    cli("import", good, good, code=0)


def test_background_import_of_several_files_reports_each(cli: Cli, tmp_path: Path, services):
    good = tmp_path / "good.xml"
    good.write_bytes(marcxml([marcxml_record(1)]))
    result = cli("import", "--background", good, tmp_path / "missing.mrc", code=1)
    assert "job 1 queued" in result.stdout and "missing.mrc" in result.stderr
    cli("import", "--background", tmp_path / "missing.mrc", code=2)


# ----------------------------------------------------------------------------------- a file that changes


def test_a_file_changed_while_it_is_imported_gives_the_batch_of_the_file_stored(cli: Cli, tmp_path: Path,
                                                                                services):  # fmt: skip
    whole = marcxml([marcxml_record(n) for n in range(1, 3001)])
    path = tmp_path / "changing.xml"
    path.write_bytes(whole)

    def cut_the_file(done: int, records: int) -> None:  # after the first chunk of 50 is stored
        if path.stat().st_size == len(whole):
            with open(path, "r+b") as fh:
                fh.truncate(len(whole) // 2)

    report = services.importer().import_file(path, ImportOptions(), cut_the_file)
    assert path.stat().st_size < len(whole)  # it was cut while the import ran
    assert (report.counts["records"], report.counts["created"], report.counts["rejected"]) == (3000, 3000, 0)
    shown = json.loads(cli("batches", "show", report.batch, "--json").stdout)
    assert (shown["status"], shown["records"], shown["size"]) == ("done", 3000, len(whole))
    with services.store.open(shown["object"]) as fh:
        assert fh.read() == whole  # the original stored is the file read, whole
    assert "nothing to resume" in cli("batches", "resume", report.batch, code=2).stderr


# ----------------------------------------------------------------------------------- pipes, compression


def kutubxona_in_bash(tmp_path: Path, db_url: str, command: str) -> subprocess.CompletedProcess:
    """Run a bash command line in which ``kutubxona`` is the installed script, as a user's shell would."""
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}  # fmt: skip
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("how", ["zcat {gz} | kutubxona import --json /dev/stdin",
                                 "zcat {gz} | kutubxona import --json -",
                                 "kutubxona import --json <(zcat {gz})",
                                 "kutubxona import --json {gz}"])  # fmt: skip
def test_a_pipe_or_a_gzip_file_imports_like_a_file(tmp_path: Path, db_url: str, how: str):
    data = b"".join(to_iso2709(marc(f"P{n}", f"Kitob {n}")) for n in range(1, 41))
    gz = tmp_path / "x.mrc.gz"
    gz.write_bytes(gzip.compress(data))
    done = kutubxona_in_bash(tmp_path, db_url, how.format(gz=gz))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    (report,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert (report["records"], report["created"]) == (40, 40)
    shown = json.loads(kutubxona_in_bash(tmp_path, db_url, f"kutubxona batches show {report['batch']} --json").stdout)
    assert shown["size"] == len(data) and shown["status"] == "done"  # the file as read is the original kept


def test_standard_input_that_is_a_terminal_is_not_waited_for(tmp_path: Path, db_url: str):
    done = kutubxona_in_bash(tmp_path, db_url, "script -qec 'kutubxona import -' /dev/null < /dev/null")
    if "script: " in done.stderr or done.returncode == 127:
        pytest.skip("no script(1) to give the command a terminal")
    assert "standard input is a terminal" in done.stdout + done.stderr


@pytest.mark.parametrize("packer", ["gzip", "bzip2", "xz"])
def test_compressed_files_are_unpacked_by_their_bytes_not_their_names(cli: Cli, tmp_path: Path, services, packer):
    data = marcxml([marcxml_record(n) for n in range(1, 21)])
    packed = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}[packer](data)
    path = tmp_path / "records.dat"  # the name says nothing
    path.write_bytes(packed)
    report = import_json(cli, path)[0]
    assert (report["file"], report["records"], report["created"]) == (str(path), 20, 20)
    shown = json.loads(cli("batches", "show", report["batch"], "--json").stdout)
    assert shown["file"] == "records.dat" and shown["size"] == len(data)


def test_a_compressed_file_cut_short_imports_what_it_holds_and_says_so(cli: Cli, tmp_path: Path):
    data = marcxml([marcxml_record(n, f"Kitob {n} " + "z" * (n * 37 % 200)) for n in range(1, 2001)])
    path = tmp_path / "cut.xml.gz"
    packed = gzip.compress(data)
    path.write_bytes(packed[: len(packed) // 2])
    result = cli("import", "--json", path, code=1)
    (report,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert report["notes"] == ["the gzip file is cut short: its records up to the cut are read, the rest is missing"]
    assert 0 < report["created"] < 2000 and report["rejected"] == 1  # the record the cut fell in
    plain = cli("import", path, code=1)
    assert "warning: " in plain.stderr and "cut short" in plain.stderr


def test_a_zip_of_several_files_is_several_files_and_odd_entries_are_refused(cli: Cli, tmp_path: Path, services):
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("records/", b"")  # a folder
        zf.writestr("records/one.xml", marcxml([marcxml_record(1), marcxml_record(2)]))
        zf.writestr("records/two.mrc.gz", gzip.compress(to_iso2709(marc("Z3", "Uchinchi"))))
        zf.writestr("__MACOSX/records/._one.xml", b"\x00\x05\x16\x07 resource fork")
        zf.writestr("../outside.xml", marcxml([marcxml_record(4)]))
        zf.writestr("/etc/absolute.xml", marcxml([marcxml_record(5)]))
        link = zipfile.ZipInfo("records/link.xml")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    result = cli("import", "--json", path, code=1)
    reports = {r["file"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(reports) == {f"{path}:{name}" for name in ("records/one.xml", "records/two.mrc.gz",
                                                           "../outside.xml", "/etc/absolute.xml",
                                                           "records/link.xml")}  # fmt: skip
    assert reports[f"{path}:records/one.xml"]["created"] == 2 and reports[f"{path}:records/two.mrc.gz"]["created"] == 1
    assert "outside the archive" in reports[f"{path}:../outside.xml"]["error"]
    assert "outside the archive" in reports[f"{path}:/etc/absolute.xml"]["error"]
    assert "symbolic link" in reports[f"{path}:records/link.xml"]["error"]
    assert count(services) == 3 and not (tmp_path.parent / "outside.xml").exists()
    files = {b["file"] for b in map(json.loads, [cli("batches", "show", n, "--json").stdout for n in (1, 2)])}
    assert files == {"delivery.zip:records/one.xml", "delivery.zip:records/two.mrc.gz"}


def test_a_zip_to_the_background_queues_a_job_per_file(cli: Cli, tmp_path: Path, services):
    path = tmp_path / "delivery.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("one.xml", marcxml([marcxml_record(1)]))
        zf.writestr("two.xml", marcxml([marcxml_record(2)]))
    result = cli("import", "--background", path)
    assert result.stdout.count("queued") == 2
    cli("worker", "--until-idle")
    assert count(services) == 2


def test_decompression_bombs_and_archives_we_do_not_read_are_refused_in_one_line(make_app, tmp_path: Path,
                                                                                 services):  # fmt: skip
    bomb = tmp_path / "bomb.mrc.gz"
    bomb.write_bytes(gzip.compress(b"0" * (40 << 20)))  # 40 MB of zeros in 40 kB
    cli = Cli(make_app())
    result = cli("import", bomb, code=2)
    (line,) = result.stderr.strip().splitlines()
    assert "bomb.mrc.gz: refused: it unpacks to more than 100 times" in line and "decompression bomb" in line
    small = tmp_path / "small.xml.xz"
    small.write_bytes(lzma.compress(marcxml([marcxml_record(1)])))
    capped = Cli(make_app(IMPORT_MAX_UNPACKED=100))
    assert "KUTUBXONA_IMPORT_MAX_UNPACKED" in capped("import", small, code=2).stderr
    tar = tmp_path / "records.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(small, "small.xml.xz")
    assert "a tar archive is not read" in cli("import", tar, code=2).stderr
    assert not list(services.store.keys())
