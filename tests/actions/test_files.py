"""Attaching files: checksums, access, links in what is disseminated, downloads, fixity, copies, embargoes."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from repository.catalogue.models import Record, RecordFile
from tests.conftest import BASE_URL, REPO_ID, require
from tests.fulltext.pages import TEXTS, page_image, text_pdf
from tests.helpers import age, import_json, marc, write
from tests.oai_client import OAI


@pytest.fixture
def book(cli, tmp_path: Path, services):  # noqa: ANN001, ANN201
    require(shutil.which("pdftotext") is not None and shutil.which("tesseract") is not None, "pdftotext, tesseract")
    import_json(cli, write(tmp_path / "b.mrc", marc("F1", "Kitob with files")))
    pdf = tmp_path / "kitob.pdf"
    pdf.write_bytes(text_pdf([["Birinchi sahifa O'zbekiston"], ["Ikkinchi sahifa"]]))
    return pdf


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def shown(cli, ident: str) -> dict:  # noqa: ANN001
    return json.loads(cli("show", ident, "--format", "json").output)


def test_attach_stores_checksums_text_and_bumps_the_datestamp(cli, book: Path, services):
    age(services)
    before = shown(cli, "F1")["datestamp"]
    result = cli("attach", "F1", book)
    assert "application/pdf" in result.output and "text: done (pdftotext)" in result.output
    record = shown(cli, "F1")
    assert record["datestamp"] > before
    [f] = record["files"]
    assert f["sha256"] == __import__("hashlib").sha256(book.read_bytes()).hexdigest()
    assert f["md5"] and f["size"] == book.stat().st_size and f["access"] == "open"
    assert [p["page"] for p in f["pages"]] == [1, 2] and "Oʻzbekiston" in f["pages"][0]["text"]
    # the disseminated record links the open file; the stored source is untouched
    assert f"{BASE_URL}/records/F1/files/kitob.pdf" in cli("show", "F1", "--format", "dc").output
    assert "856" not in cli("show", "F1", "--format", "marcxml").output


def test_mime_from_the_bytes_and_ocr_of_a_scan_with_a_lying_name(cli, book: Path, tmp_path: Path):
    scan = page_image(TEXTS["uzb_cyrl"], tmp_path / "scan.png")
    liar = tmp_path / "scan.pdf"
    scan.rename(liar)
    cli("attach", "F1", liar, "--lang", "uzb_cyrl")
    [f] = shown(cli, "F1")["files"]
    assert f["mime"] == "image/png" and f["method"] == "ocr" and f["languages"] == "uzb_cyrl"
    assert "Ўзбекистон" in f["pages"][0]["text"] and f["confidence"] > 70


def test_bad_files_are_stored_with_a_failed_extraction(cli, book: Path, tmp_path: Path, live: str):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\nnot really\n")
    cli("attach", "F1", empty, corrupt)
    files = {f["name"]: f for f in shown(cli, "F1")["files"]}
    assert files["empty.pdf"]["extraction"] == "failed" and files["empty.pdf"]["message"]
    assert files["corrupt.pdf"]["extraction"] == "failed"
    assert fetch(f"{live}/records/F1/files/corrupt.pdf")[2] == corrupt.read_bytes()  # still downloadable


def test_download_range_type_disposition_and_access(cli, book: Path, tmp_path: Path, live: str, services):
    cli("attach", "F1", book)
    url = f"{live}/records/F1/files/kitob.pdf"
    status, headers, body = fetch(url)
    assert status == 200 and body == book.read_bytes() and headers["Content-Type"] == "application/pdf"
    assert "kitob.pdf" in headers["Content-Disposition"] and headers["Accept-Ranges"] == "bytes"
    status, headers, body = fetch(url, {"Range": "bytes=10-19"})
    assert status == 206 and body == book.read_bytes()[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{book.stat().st_size}"
    assert fetch(url, {"Range": "bytes=-5"})[2] == book.read_bytes()[-5:]
    assert fetch(url, {"Range": "bytes=999999-"})[0] == 416
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(text_pdf([["Restricted"]]))
    cli("attach", "F1", secret, "--access", "restricted")
    assert fetch(f"{live}/records/F1/files/secret.pdf")[0] == 403
    for probe in ("../../etc/passwd", "..%2F..%2Fsecret.pdf", "nope.pdf"):
        assert fetch(f"{live}/records/F1/files/{probe}")[0] == 404
    assert fetch(f"{live}/records/F1/files/")[0] == 404  # no listing
    page = fetch(f"{live}/records/F1?lang=en")[2].decode()
    assert 'href="/records/F1/files/kitob.pdf"' in page
    assert "secret.pdf" not in page and "1 file with restricted access" in page  # counted, not named


def test_embargo_is_released_on_its_day(cli, book: Path, tmp_path: Path, live: str, services):
    tomorrow = date.today() + timedelta(days=1)
    cli("attach", "F1", book, "--access", f"embargo:{tomorrow.isoformat()}")
    assert fetch(f"{live}/records/F1/files/kitob.pdf")[0] == 403
    assert "kitob.pdf" not in cli("show", "F1", "--format", "dc").output  # not linked while embargoed
    assert "0 files released" in cli("embargo", "release").output
    with services.db.transaction() as s:
        s.execute(update(RecordFile).values(embargo_until=date.today()))
    age(services)
    before = shown(cli, "F1")["datestamp"]
    assert "opened F1/kitob.pdf" in cli("embargo", "release").output
    assert fetch(f"{live}/records/F1/files/kitob.pdf")[0] == 200
    assert shown(cli, "F1")["datestamp"] > before
    cli("attach", "F1", book, "--access", "sometime", code=2)


def test_oai_records_link_open_files(cli, book: Path, live: str, services):
    cli("attach", "F1", book)
    age(services)
    client = OAI(live)
    ident = f"oai:{REPO_ID}:F1"
    marc21 = client(verb="GetRecord", identifier=ident, metadataPrefix="marc21")
    assert marc21.xpath("//marc:datafield[@tag='856']/marc:subfield[@code='u']/text()") == [
        f"{BASE_URL}/records/F1/files/kitob.pdf"
    ]
    dc = client(verb="GetRecord", identifier=ident, metadataPrefix="oai_dc")
    assert f"{BASE_URL}/records/F1/files/kitob.pdf" in dc.xpath("//dc:identifier/text()")


def test_fixity_finds_missing_and_corrupt_objects(cli, book: Path, services, tmp_path: Path):
    cli("attach", "F1", book)
    other = tmp_path / "other.pdf"
    other.write_bytes(text_pdf([["Other"]]))
    cli("attach", "F1", other)
    assert "2 objects checked, 0 missing or corrupt" in cli("fixity").output
    with services.db.reading() as s:
        keys = list(s.scalars(select(RecordFile.object_key).order_by(RecordFile.id)))
    objects = Path(services.store.root)
    (objects / keys[0][:2] / keys[0][2:4] / keys[0]).write_bytes(b"bit rot")
    (objects / keys[1][:2] / keys[1][2:4] / keys[1]).unlink()
    report = [json.loads(line) for line in cli("fixity", "--json", code=1).output.splitlines()]
    assert sorted(r["status"] for r in report) == ["corrupt", "missing"]


def test_storage_copy_to_s3_and_back_resumes(cli, book: Path, services, moto_server: str, tmp_path: Path, monkeypatch):
    import_json(cli, write(tmp_path / "more.mrc", marc("F2", "More")))
    cli("attach", "F1", book)
    monkeypatch.setattr(services, "settings", replace(services.settings, s3_endpoint=moto_server))
    first = cli("storage", "copy", "--to", "s3://kx-copy").output
    assert "3 objects: 3 copied, 0 already there" in first  # two imported files and the PDF
    assert "3 objects: 0 copied, 3 already there" in cli("storage", "copy", "--to", "s3://kx-copy").output
    back = (tmp_path / "back").as_uri()
    from repository.storage import open_store

    s3 = open_store("s3://kx-copy", endpoint=moto_server)
    monkeypatch.setattr(services, "store", s3)
    assert "3 copied" in cli("storage", "copy", "--to", back).output
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 2


def test_s3_down_leaves_no_row(cli, book: Path, services, monkeypatch):
    from repository.storage.s3 import S3Store

    dead = S3Store("kx-dead", endpoint="http://127.0.0.1:9", retries=1)
    monkeypatch.setattr(services, "store", dead)
    result = cli("attach", "F1", book, code=2)
    assert "cannot" in result.output and "Traceback" not in result.output
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(RecordFile)) == 0


def test_ocr_command_redoes_and_resumes(cli, book: Path, tmp_path: Path, services):
    scan = page_image(TEXTS["rus"], tmp_path / "skan.png")
    cli("attach", "F1", scan, "--ocr", "never")
    files = {f["name"]: f for f in shown(cli, "F1")["files"]}
    assert files["skan.png"]["extraction"] == "none"
    with services.db.transaction() as s:  # as if a run had died before this file
        s.execute(update(RecordFile).where(RecordFile.name == "skan.png").values(extraction="pending"))
    assert "1 files, 0 failed" in cli("ocr", "--all", "--lang", "rus").output  # only what is left
    files = {f["name"]: f for f in shown(cli, "F1")["files"]}
    assert files["skan.png"]["method"] == "ocr" and "каталог" in files["skan.png"]["pages"][0]["text"]
    assert "0 files" in cli("ocr", "F1").output  # nothing left to do
    assert "1 files" in cli("ocr", "F1", "--redo", "--lang", "rus").output
    cli("ocr", code=2)


def test_an_interrupted_recognition_goes_on_after_its_last_stored_page(cli, book: Path, tmp_path: Path, services):
    from PIL import Image

    from repository.actions.files import extract_file, extract_texts
    from repository.errors import Handback

    langs = ["eng", "rus", "eng", "rus", "eng"]
    frames = [Image.open(page_image(TEXTS[lang], tmp_path / f"{n}.png")) for n, lang in enumerate(langs)]
    tiff = tmp_path / "book.tiff"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(300, 300))
    cli("attach", "F1", tiff, "--ocr", "never")
    with services.db.reading() as s:
        file_id = s.scalar(select(RecordFile.id).where(RecordFile.name == "book.tiff"))
    told: list[tuple[int, int]] = []

    def stop_after_first(done: int, total: int) -> None:
        told.append((done, total))
        raise Handback

    with pytest.raises(Handback):
        extract_file(services, file_id, "auto", "eng+rus", stop_after_first)
    first = told[0][0]
    assert 0 < first < 5 and told[0][1] == 5  # one batch (as many pages as cores) is stored
    row = {f["name"]: f for f in shown(cli, "F1")["files"]}["book.tiff"]
    assert (row["extraction"], row["method"], len(row["pages"])) == ("pending", "ocr", first)
    told.clear()
    assert extract_texts(services, [file_id], "rus", pages_done=lambda d, t: told.append((d, t))) == 0
    assert told[0][0] > first and told[-1] == (5, 5)  # the pages already stored were not recognised again
    row = {f["name"]: f for f in shown(cli, "F1")["files"]}["book.tiff"]
    assert (row["extraction"], row["languages"]) == ("done", "eng+rus")  # in the languages it began with
    assert [p["page"] for p in row["pages"]] == [1, 2, 3, 4, 5]
    assert "catalogue" in row["pages"][2]["text"] and "каталог" in row["pages"][3]["text"]
    assert row["confidence"] is not None


def test_pypdf_is_the_fallback_without_pdftotext(tmp_path: Path, monkeypatch):
    from repository.fulltext import pdf

    path = tmp_path / "t.pdf"
    path.write_bytes(text_pdf([["First page"], ["Second page"]]))
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    pages = pdf.pdf_pages(path)
    assert len(pages) == 2 and "First page" in pages[0] and "Second page" in pages[1]
