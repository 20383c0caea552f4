"""Importing files: every record accounted for, nothing lost, history kept, bad input explained."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from repository.actions import importing
from repository.catalogue.models import BatchItem, ImportBatch, Record, RecordFormat, RecordKey, RecordVersion
from repository.metadata.dc import DublinCore
from repository.metadata.formats import prepare_dc, prepare_marc
from repository.metadata.marc import ControlField, DataField, MarcRecord, to_iso2709
from repository.metadata.marcxml import with_schema_location
from tests.conftest import REPO_ID, Cli
from tests.helpers import age, count, import_json, marc, write


def test_sample_collection_imports_cleanly_and_reimports_unchanged(cli: Cli, sample_dir: Path, services):
    files = sorted(sample_dir.iterdir())
    first = import_json(cli, *files)
    assert [r["rejected"] for r in first] == [0] * len(files)
    assert sum(r["created"] for r in first) == sum(r["records"] for r in first) == count(services)
    flavours = {r.flavour for r in _all(services)}
    assert flavours == {"marc21", "unimarc", "dc"}
    kinds = {r.kind for r in _all(services)}
    assert {"book", "serial", "article", "thesis", "manuscript"} <= kinds
    before = {r.local_id: r.datestamp for r in _all(services)}
    again = import_json(cli, *files)
    assert all(r["unchanged"] == r["records"] for r in again)
    assert {r.local_id: r.datestamp for r in _all(services)} == before  # not even the datestamp moves


def _all(services) -> list[Record]:  # noqa: ANN001
    with services.db.reading() as s:
        return list(s.scalars(select(Record)))


def test_encodings_of_the_sample_are_decoded(cli: Cli, sample_dir: Path, services):
    import_json(cli, *sorted(sample_dir.iterdir()))
    with services.db.reading() as s:
        titles = {r.local_id: r.title for r in s.scalars(select(Record))}
    cp1251 = [t for lid, t in titles.items() if lid.startswith("RU")]
    assert cp1251 and all(any("а" <= c <= "я" for c in t) for t in cp1251)  # Cyrillic, not mojibake
    marc8 = [t for lid, t in titles.items() if lid.startswith("KTB001")]
    assert any(any("а" <= c <= "я" for c in t) for t in marc8)
    assert any("ʻ" in t for t in titles.values())  # Uzbek oʻ survives
    assert any("қ" in t or "ғ" in t for t in titles.values())  # Uzbek Cyrillic letters survive


def test_update_keeps_history_and_restore_brings_a_version_back(cli: Cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "First title")))
    report = import_json(cli, write(tmp_path / "b.mrc", marc("B1", "Second title")))[0]
    assert report["updated"] == 1
    history = cli("history", "B1").output.splitlines()
    assert len(history) == 2 and "First title" in history[0] and "Second title" in history[1]
    cli("history", "B1", "--restore", "1")
    shown = json.loads(cli("show", "B1", "--format", "json").output)
    assert shown["title"] == "First title" and shown["versions"] == 3
    cli("history", "B1", "--restore", "9", code=2)


def test_delete_leaves_a_tombstone_and_reimport_brings_it_back(cli: Cli, tmp_path: Path, services):
    path = write(tmp_path / "a.mrc", marc("D1", "Deleted then back"))
    import_json(cli, path)
    oai_id = f"oai:{REPO_ID}:D1"
    cli("delete", oai_id)  # the full OAI identifier works wherever an ID does
    shown = json.loads(cli("show", "D1", "--format", "json").output)
    assert shown["deleted"] is True and shown["title"] == "Deleted then back"
    age(services)  # make the deletion an hour old
    deleted_at = datetime.strptime(shown["datestamp"], "%Y-%m-%dT%H:%M:%SZ") - timedelta(hours=1)
    report = import_json(cli, path)[0]
    assert report["updated"] == 1
    back = json.loads(cli("show", "D1", "--format", "json").output)
    assert back["deleted"] is False
    assert datetime.strptime(back["datestamp"], "%Y-%m-%dT%H:%M:%SZ") > deleted_at
    cli("delete", "nope", code=2)


def test_set_membership_change_bumps_the_datestamp_only_then(cli: Cli, tmp_path: Path, services):
    cli("sets", "add", "a:b:c", "Deep set")
    listed = cli("sets", "list").output
    assert "a\t" in listed and "a:b\t" in listed and "a:b:c\t" in listed  # ancestors created
    path = write(tmp_path / "a.mrc", marc("S1", "In a set"))
    import_json(cli, path)
    age(services)
    old = _all(services)[0].datestamp
    assert import_json(cli, path, "--set", "a:b:c")[0]["updated"] == 1
    assert _all(services)[0].datestamp > old
    assert json.loads(cli("show", "S1", "--format", "json").output)["sets"] == ["a:b:c"]
    assert import_json(cli, path, "--set", "a:b:c")[0]["unchanged"] == 1


def test_unknown_set_stops_before_anything_is_imported(cli: Cli, tmp_path: Path, services):
    result = cli("import", write(tmp_path / "a.mrc", marc("X1", "T")), "--set", "nosuch", code=2)
    assert "no such set: nosuch" in result.output
    assert count(services) == 0
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_on_match_skip_and_new(cli: Cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("M1", "Original")))
    changed = write(tmp_path / "b.mrc", marc("M1", "Changed"))
    assert import_json(cli, changed, "--on-match", "skip")[0]["skipped"] == 1
    assert _all(services)[0].title == "Original"
    report = import_json(cli, changed, "--on-match", "new")[0]
    assert report["created"] == 1
    assert sorted(r.local_id for r in _all(services)) == ["M1", "UzNL-M1"]  # 003 prefixes a taken 001


def test_isbn_never_merges_records_with_different_control_numbers_unless_asked(cli: Cli, tmp_path: Path, services):
    isbn = DataField("020", " ", " ", (("a", "978-9943-00001-8"),))
    import_json(cli, write(tmp_path / "a.mrc", marc("I1", "Book", isbn)))
    same_org = marc("I2", "Another book, same ISBN", isbn)  # UzNL says: a different record
    assert import_json(cli, write(tmp_path / "b.mrc", same_org))[0]["created"] == 1
    other_system = MarcRecord(
        "00000nam a2200000 i 4500",
        [ControlField("001", "99"), ControlField("003", "Other"), DataField("020", " ", " ", (("a", "9943000015"),)),
         DataField("245", "1", "0", (("a", "Book, their copy"),))],
    )  # fmt: skip
    theirs = write(tmp_path / "c.mrc", other_system)
    assert import_json(cli, theirs)[0]["created"] == 1  # another control number: another record
    no_control = MarcRecord("00000nam a2200000 i 4500", [isbn, DataField("245", "1", "0", (("a", "Book, bare"),))])
    assert import_json(cli, write(tmp_path / "d.mrc", no_control))[0]["updated"] == 1  # nothing says otherwise
    # asked to match by ISBN alone, the other system's copy is one of ours (ISBN-10 = ISBN-13)
    assert import_json(cli, theirs, "--match", "isbn")[0]["updated"] == 1
    titles = {r.local_id: r.title for r in _all(services)}
    assert titles == {"I1": "Book, their copy", "I2": "Another book, same ISBN", "99": "Book, their copy"}


@pytest.mark.parametrize("chunk", [50, 20_000])
def test_ten_thousand_copies_sharing_one_isbn_import_in_one_run(make_app, tmp_path: Path, chunk: int):
    cli = Cli(make_app(IMPORT_CHUNK=chunk))
    isbn = DataField("020", " ", " ", (("a", "978-9943-00001-8"),))
    copies = [marc(f"N{n:05}", f"Nusxa {n}", isbn) for n in range(10_000)]
    report = import_json(cli, write(tmp_path / "copies.mrc", *copies))[0]
    assert (report["records"], report["created"], report["rejected"]) == (10_000, 10_000, 0)
    assert import_json(cli, tmp_path / "copies.mrc")[0]["unchanged"] == 10_000


def test_records_without_control_numbers_sharing_an_isbn_merge_without_recursion(make_app, tmp_path: Path):
    app = make_app(IMPORT_CHUNK=2_000)  # one chunk: each record must see the one before it stored
    cli, services = Cli(app), app.extensions["kutubxona"]
    isbn = DataField("020", " ", " ", (("a", "978-9943-00001-8"),))
    bare = [MarcRecord("00000nam a2200000 i 4500", [isbn, DataField("245", "1", "0", (("a", f"Nashr {n}"),))])
            for n in range(1_000)]  # fmt: skip
    report = import_json(cli, write(tmp_path / "bare.mrc", *bare))[0]
    assert (report["created"], report["updated"]) == (1, 999)
    assert [r.title for r in _all(services)] == ["Nashr 999"]


def test_match_names_are_checked(cli: Cli, tmp_path: Path):
    result = cli("import", "--match", "isbn,colour", write(tmp_path / "a.mrc", marc("M1", "Bir")), code=2)
    assert "--match takes control, 035, isbn, issn, identifier, content" in result.stderr


def test_dry_run_stores_nothing(cli: Cli, sample_dir: Path, services):
    report = import_json(cli, sample_dir / "asosiy-marc21-utf8.mrc", "--dry-run")[0]
    assert report["created"] == report["records"] > 200 and report["batch"] is None
    assert count(services) == 0
    assert not list(services.store.keys())


def test_original_file_is_stored_byte_for_byte(cli: Cli, sample_dir: Path, services):
    path = sample_dir / "rusmarc-unimarc-cp1251.mrc"
    batch_id = import_json(cli, path)[0]["batch"]
    with services.db.reading() as s:
        batch = s.get(ImportBatch, batch_id)
    with services.store.open(batch.object_key) as fh:
        assert fh.read() == path.read_bytes()


def test_authority_and_holdings_records_are_skipped_and_kept(cli: Cli, tmp_path: Path, services):
    path = write(
        tmp_path / "mixed.mrc",
        marc("A1", "Book"),
        marc("A2", "Name authority", leader="00000nz  a2200000n  4500"),
        marc("A3", "Holdings", leader="00000nu  a2200000n  4500"),
    )
    report = import_json(cli, path)[0]
    assert (report["created"], report["skipped"]) == (1, 2)
    assert {p["position"] for p in report["problems"] if p["outcome"] == "skipped"} == {2, 3}
    out = tmp_path / "kept.mrc"
    cli("batches", "rejected", report["batch"], "--out", out)
    assert out.read_bytes().count(b"\x1d") == 2


def test_broken_records_are_reported_with_position_and_kept_for_reimport(cli: Cli, tmp_path: Path, services):
    good1, good2 = to_iso2709(marc("G1", "Good one")), to_iso2709(marc("G2", "Good two"))
    bad_directory = bytearray(to_iso2709(marc("BAD", "Bad directory")))
    bad_directory[24:27] = b"\xb2x\xb2"
    no_title = to_iso2709(MarcRecord("00000nam a2200000 i 4500", [ControlField("001", "NT")]))
    control_chars = to_iso2709(marc("CC", "Control\x07 chars\x1b"))
    huge = to_iso2709(marc("BIG", "Big note", DataField("500", " ", " ", (("a", "z" * 9000),))))
    path = write(tmp_path / "broken.mrc", good1, bytes(bad_directory), no_title, control_chars, huge, good2)
    report = import_json(cli, path, code=1)[0]
    assert report["records"] == 6
    assert (report["created"], report["rejected"]) == (4, 2)
    rejected = {p["position"]: p for p in report["problems"] if p["outcome"] == "rejected"}
    assert set(rejected) == {2, 3}
    assert rejected[2]["offset"] == len(good1) and "directory" in rejected[2]["reason"]
    assert "245" in rejected[3]["reason"]
    assert report["warnings"] >= 1  # the control characters
    assert "Control chars" in json.loads(cli("show", "CC", "--format", "json").output)["title"]
    shown = json.loads(cli("batches", "show", report["batch"], "--json").output)
    assert shown["rejected"] == 2 and len([p for p in shown["problems"] if p["outcome"] == "rejected"]) == 2
    # the cataloguer fixes the rejected records and imports them again
    out = tmp_path / "rejected.mrc"
    cli("batches", "rejected", report["batch"], "--out", out)
    assert out.read_bytes() == bytes(bad_directory) + no_title
    fixed = write(tmp_path / "fixed.mrc", marc("BAD", "Bad directory"), marc("NT", "Now titled"))
    assert import_json(cli, fixed)[0]["created"] == 2


def test_truncated_file_keeps_the_good_records(cli: Cli, tmp_path: Path, services):
    data = to_iso2709(marc("T1", "Whole")) + to_iso2709(marc("T2", "Cut short"))[:40]
    report = import_json(cli, write(tmp_path / "cut.mrc", data), code=1)[0]
    assert (report["records"], report["created"], report["rejected"]) == (2, 1, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"Hello, this is not MARC at all\n", "not ISO 2709"),
        (b'{"leader": "x"}', "JSON"),
        (b'<?xml version="1.0"?>\n<collection><title>Kitob</collection>', "not well-formed at line 2"),
    ],
)
def test_files_we_cannot_read_exit_2_and_store_nothing(cli: Cli, tmp_path: Path, services, content, message):
    path = tmp_path / "file.dat"
    path.write_bytes(content)
    report = import_json(cli, path, code=2)[0]
    assert message in report["error"]
    assert not list(services.store.keys())
    result = cli("import", tmp_path / "missing.mrc", code=2)
    assert "cannot read" in result.output


def test_marcxml_and_dc_and_oai_responses(cli: Cli, tmp_path: Path, services):
    marcxml = tmp_path / "c.xml"
    marcxml.write_text(
        '<?xml version="1.0"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
        '<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">X1</controlfield>'
        '<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Oʻzbek tili</subfield></datafield></record>'
        "<record><leader>00000nam a2200000 a 4500</leader><controlfield>no tag</controlfield></record>"
        "</collection>",
        encoding="utf-8",
    )
    report = import_json(cli, marcxml, code=1)[0]
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["problems"][0]["line"] == 1
    oai = tmp_path / "oai.xml"
    oai.write_text(
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        "<record><header><identifier>oai:src.org:1</identifier><datestamp>2020-01-01</datestamp></header>"
        '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Maqola</dc:title></oai_dc:dc></metadata></record>'
        '<record><header status="deleted"><identifier>oai:src.org:2</identifier>'
        "<datestamp>2020-01-01</datestamp></header></record>"
        "</ListRecords></OAI-PMH>",
        encoding="utf-8",
    )
    report = import_json(cli, oai)[0]
    assert (report["created"], report["skipped"]) == (1, 1)
    shown = json.loads(cli("show", "oai:src.org:1", "--format", "json").output)
    assert shown["flavour"] == "dc" and shown["oai_identifier"] == f"oai:{REPO_ID}:oai:src.org:1"


def test_versions_record_the_batch(cli: Cli, tmp_path: Path, services):
    batch = import_json(cli, write(tmp_path / "a.mrc", marc("V1", "T")))[0]["batch"]
    second = import_json(cli, write(tmp_path / "b.mrc", marc("V1", "T2")))[0]["batch"]
    with services.db.reading() as s:
        archived = s.scalar(select(RecordVersion))
        assert (archived.batch_id, archived.action, archived.number) == (batch, "create", 1)
        record = s.scalar(select(Record))
        assert (record.batch_id, record.action, record.version) == (second, "update", 2)
        assert s.scalar(select(func.count()).select_from(BatchItem)) == 0


def test_duplicates_within_one_file_become_one_record_and_one_update(cli: Cli, tmp_path: Path, services):
    path = write(tmp_path / "dup.mrc", marc("DUP", "First"), marc("DUP", "Second"), marc("DUP", "Second"))
    report = import_json(cli, path)[0]
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 1)
    assert _all(services)[0].title == "Second"


def test_rerender_bumps_only_records_whose_bytes_change(cli: Cli, make_app, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("R1", "One"), marc("R2", "Two")))
    age(services)
    before = {r.local_id: r.datestamp for r in _all(services)}
    assert "0 changed" in cli("rerender").output  # nothing changed: nothing moves
    assert {r.local_id: r.datestamp for r in _all(services)} == before
    moved = make_app(BASE_URL="https://kutubxona.example.uz")  # the site moved: dc:identifier URLs change
    cli.app = moved
    assert "2 changed" in cli("rerender").output
    after = {r.local_id: r.datestamp for r in _all(services)}
    assert all(after[k] > before[k] for k in before)
    dc = cli("show", "R1", "--format", "dc").output
    assert "https://kutubxona.example.uz/records/R1" in dc


def test_a_marc21_payload_is_stored_once_and_rerender_compacts_an_older_copy(cli: Cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("P1", "One")))
    with services.db.transaction() as s:
        rec = s.scalar(select(Record))
        stored = s.get(RecordFormat, (rec.id, "marc21"))
        assert stored.xml is None  # the record's source is the payload
        expected = with_schema_location(rec.source).encode()
        stored.xml = expected  # as a database migrated from before 0004 holds it
    assert _oai_marc21(services, "P1") == expected
    age(services)
    before = _all(services)[0].datestamp
    assert "0 changed" in cli("rerender").output  # stored anew, disseminated the same: no new datestamp
    with services.db.transaction() as s:
        assert s.scalar(select(RecordFormat.xml).where(RecordFormat.prefix == "marc21")) is None
    assert _all(services)[0].datestamp == before
    assert _oai_marc21(services, "P1") == expected


def _oai_marc21(services, local_id: str) -> bytes:  # noqa: ANN001
    from repository.catalogue.oai_store import SqlStore

    with services.db.transaction() as s:
        return SqlStore(s).get(local_id, "marc21").payload


def test_progress_bar_on_a_terminal_only(sample_dir: Path, db_url: str, tmp_path: Path):
    import os
    import pty
    import subprocess
    import sys

    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no"}  # fmt: skip
    command = [sys.executable, "-m", "repository.cli", "import", str(sample_dir / "asosiy-marc21-utf8.mrc")]
    piped = subprocess.run(command, env=env, capture_output=True, text=True)
    assert piped.returncode == 0 and "records/s" not in piped.stdout + piped.stderr and "%" not in piped.stderr
    main, secondary = pty.openpty()
    proc = subprocess.Popen(command, env=env, stdout=secondary, stderr=secondary)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert proc.wait() == 0
    text = output.decode()
    assert "asosiy-marc21-utf8.mrc" in text and "records" in text and "/s" in text and "100%" in text


def test_reported_problems_are_bounded_and_the_batch_keeps_them_all(cli: Cli, tmp_path: Path, monkeypatch, services):

    monkeypatch.setattr(importing, "MAX_REPORTED", 3)
    no_title = MarcRecord("00000nam a2200000 i 4500", [ControlField("001", "X")])
    report = import_json(cli, write(tmp_path / "bad.mrc", *[no_title] * 5), code=1)[0]
    assert report["rejected"] == 5 and len(report["problems"]) == 3 and report["problems_omitted"] == 2
    shown = json.loads(cli("batches", "show", report["batch"], "--json").output)
    assert len(shown["problems"]) == 5


def test_show_in_every_format(cli: Cli, sample_dir: Path, tmp_path: Path):
    import_json(cli, sample_dir / "uzmarc-unimarc-utf8.mrc", sample_dir / "maqolalar-dc.xml")
    text = cli("show", "UZM000001", "--format", "text").output
    assert text.startswith("=LDR  ") and "=200  1\\$a" in text
    iso = cli("show", "UZM000001", "--format", "iso2709").stdout_bytes
    assert iso[9:10] == b" " and iso.endswith(b"\x1d")  # UNIMARC leaves leader/09 blank: 100 $a names the set
    assert import_json(cli, write(tmp_path / "again.mrc", iso))[0]["unchanged"] == 1  # the same record
    assert "<record xmlns=" in cli("show", "UZM000001", "--format", "marcxml").output
    assert "<oai_dc:dc" in cli("show", "UZM000001", "--format", "dc").output
    data = json.loads(cli("show", f"oai:{REPO_ID}:UZM000001", "--format", "json").output)
    assert data["flavour"] == "unimarc" and data["formats"] == ["marcxchange", "oai_dc"] and data["fields"]
    dc_id = "https://doi.org/10.5555/kutubxona.0001"
    assert "dc:title: " in cli("show", dc_id, "--format", "text").output
    converted = cli("show", dc_id, "--format", "iso2709").stdout_bytes  # as MARC 21, as the export writes it
    assert converted.endswith(b"\x1d") and b"dccross" in converted
    cli("show", "nope", code=2)


def test_a_record_without_identifiers_is_matched_by_its_content(cli: Cli, tmp_path: Path, services):
    bare = MarcRecord("00000nam a2200000 i 4500", [DataField("245", "1", "0", (("a", "No identifiers"),))])
    first = import_json(cli, write(tmp_path / "a.mrc", bare))[0]
    again = import_json(cli, write(tmp_path / "b.mrc", bare))[0]
    assert (first["created"], again["unchanged"], count(services)) == (1, 1, 1)
    with services.db.reading() as s:
        assert [k.kind for k in s.scalars(select(RecordKey))] == ["hash"]


def test_only_a_marc_record_without_other_keys_needs_its_content_hash():
    with_001 = prepare_marc(marc("B1", "Title"), "marc21")
    assert [kind for kind, _ in with_001.keys] == ["ctl"]  # the content decides the 001 anyway
    bare = prepare_marc(MarcRecord("00000nam a2200000 i 4500", [DataField("245", "1", "0", (("a", "T"),))]), "marc21")
    assert bare.keys == [("hash", bare.content_hash)]
    dc = DublinCore()
    dc.add("title", "T")
    dc.add("identifier", "http://example.org/1")
    kinds = [kind for kind, _ in prepare_dc(dc, "oai:example.org:1").keys]
    assert kinds == ["dcid", "dcid", "hash"]  # the header identifier is not content: the hash stays


def test_a_forbidden_character_never_ends_an_xml_file(cli: Cli, tmp_path: Path, services):
    def rec(n: int, title: bytes) -> bytes:
        return (b'<record><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">X%d</controlfield>'
                b'<datafield tag="245" ind1="1" ind2="0"><subfield code="a">%s</subfield></datafield></record>\n'
                % (n, title))  # fmt: skip

    titles = {2: b"Vertical\x0btab", 500: b"Char &#1;reference &#x1F; and &#x41;", 998: b"Null\x00byte"}
    body = b"".join(rec(n, titles.get(n, b"Kitob %d" % n)) for n in range(1, 1000))
    path = tmp_path / "forbidden.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
                     + body + b"</collection>\n")  # fmt: skip
    report = import_json(cli, path)[0]
    assert (report["records"], report["created"], report["rejected"]) == (999, 999, 0)
    warned = {p["position"]: p for p in report["problems"] if p["outcome"] == "warning"}
    assert sorted(warned) == [2, 500, 998]
    assert "1 characters XML 1.0 forbids removed (line 4)" in warned[2]["reason"]
    assert "2 characters" in warned[500]["reason"] and warned[500]["line"] == 502
    titles = {r.local_id: r.title for r in _all(services)}
    assert titles["X2"] == "Verticaltab" and titles["X500"] == "Char reference and A" and titles["X998"] == "Nullbyte"


def test_text_around_comments_and_entity_references_is_kept(cli: Cli, tmp_path: Path, services):
    path = tmp_path / "entities.xml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE collection [<!ENTITY nbsp "&#160;">]>\n'
        b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam a2200000 i 4500</leader>'
        b'<controlfield tag="001">E1</controlfield><datafield tag="245" ind1="1" ind2="0">'
        b'<subfield code="a">AT<!-- a cataloguer\'s note -->&amp;T in&nbsp;Toshkent</subfield></datafield>'
        b"</record></collection>\n"
    )
    assert import_json(cli, path)[0]["created"] == 1
    assert _all(services)[0].title == "AT&T in&nbsp;Toshkent"  # no text lost; the reference kept as written


def test_a_dry_run_counts_as_the_import_would_and_holds_no_write_lock(cli: Cli, sample_dir: Path, tmp_path: Path,
                                                                      services):  # fmt: skip
    from repository.actions import records as record_actions
    from repository.actions.importing import ImportOptions

    files = sorted(sample_dir.glob("*.mrc"))
    repeat = write(tmp_path / "repeat.mrc", *[marc(f"R{n:03}", f"Kitob {n}") for n in range(120)],
                   marc("R010", "Kitob 10, tuzatilgan"), marc("R011", "Kitob 11"))  # fmt: skip
    dry = [import_json(cli, "--dry-run", f)[0] for f in [*files, repeat]]
    assert count(services) == 0
    # while a dry run reads (chunks of 50), another writer is not kept waiting
    writes: list[float] = []

    def write_meanwhile(done: int, records: int) -> None:
        if not writes:
            started = time.monotonic()
            record_actions.add_set(services, "meanwhile", "Written during a dry run")
            writes.append(time.monotonic() - started)

    services.importer().import_file(repeat, ImportOptions(dry_run=True), write_meanwhile)
    assert writes and writes[0] < 5
    real = [import_json(cli, f)[0] for f in [*files, repeat]]
    keys = ("records", "created", "updated", "unchanged", "skipped", "rejected")
    assert [{k: r[k] for k in keys} for r in dry] == [{k: r[k] for k in keys} for r in real]
    assert (dry[-1]["created"], dry[-1]["updated"], dry[-1]["unchanged"]) == (120, 1, 1)


# lxml may read ahead of the records it has handed over, so a break near the start can come
# before the first record arrives; the records are then counted, not found by line.
@pytest.mark.parametrize("broken", [1, 2, 700])
def test_a_malformed_record_is_rejected_and_the_records_after_it_imported(
    cli: Cli, tmp_path: Path, services, broken: int
):
    def rec(n: int) -> bytes:
        end = b"</datafield>" if n != broken else b"</controlfield>"  # a mismatched end tag
        return (b'<marc:record><marc:leader>00000nam a2200000 i 4500</marc:leader>'
                b'<marc:controlfield tag="001">M%d</marc:controlfield>\n'
                b'<marc:datafield tag="245" ind1="1" ind2="0"><marc:subfield code="a">Kitob %d</marc:subfield>'
                % (n, n) + end.replace(b"</", b"</marc:") + b"</marc:record>\n")  # fmt: skip

    path = tmp_path / "broken.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n<marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim">\n'
                     + b"".join(rec(n) for n in range(1, 1000)) + b"</marc:collection>\n")  # fmt: skip
    report = import_json(cli, path, code=1)[0]
    assert (report["records"], report["created"], report["rejected"]) == (999, 998, 1)
    (bad,) = [p for p in report["problems"] if p["outcome"] == "rejected"]
    assert bad["position"] == broken and bad["line"] == 2 + 2 * broken - 1 and "not well-formed" in bad["reason"]
    with services.db.reading() as s:
        raw = s.scalar(select(BatchItem.raw).where(BatchItem.outcome == "rejected"))
    assert raw.startswith(b"<marc:record>") and b"M%d<" % broken in raw  # kept to be fixed and imported again
    assert {r.local_id for r in _all(services)} == {f"M{n}" for n in range(1, 1000)} - {f"M{broken}"}


def test_an_oai_response_with_a_broken_record_keeps_the_others(cli: Cli, tmp_path: Path, services):
    def record(n: int, title: str) -> str:
        return (f"<record><header><identifier>oai:x:{n}</identifier><datestamp>2024-01-01</datestamp></header>"
                f'<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
                f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></oai_dc:dc></metadata>'
                "</record>\n")  # fmt: skip

    records = [record(n, f"Maqola {n}") for n in range(1, 6)]
    records[2] = records[2].replace("</dc:title>", "</dc:titel>")
    path = tmp_path / "response.xml"
    path.write_text('<?xml version="1.0"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
                    "<responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request><ListRecords>\n"
                    + "".join(records) + "</ListRecords></OAI-PMH>\n")  # fmt: skip
    report = import_json(cli, path, code=1)[0]
    assert (report["records"], report["created"], report["rejected"]) == (5, 4, 1)
    assert sorted(r.title for r in _all(services)) == ["Maqola 1", "Maqola 2", "Maqola 4", "Maqola 5"]
