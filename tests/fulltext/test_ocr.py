"""OCR of Uzbek (both scripts), Russian and English pages the tests render; PDF text layers; bad input."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from repository.fulltext import ExtractionError, extract
from repository.fulltext.ocr import languages_for
from repository.fulltext.uzbek import normalise
from tests.conftest import require
from tests.fulltext.pages import FONT, TEXTS, cer, page_image, text_pdf


@pytest.fixture(autouse=True)
def tools() -> None:
    require(shutil.which("tesseract") is not None, "tesseract (Debian tesseract-ocr)")
    require(shutil.which("pdftotext") is not None, "pdftotext (Debian poppler-utils)")
    require(FONT.exists(), f"the DejaVu font at {FONT} (Debian fonts-dejavu-core)")


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_clean_pages_have_a_character_error_rate_under_2_percent(language: str, tmp_path: Path):
    image = page_image(TEXTS[language], tmp_path / "page.png")
    result = extract(image, "image/png", languages=language)
    text, confidence = result.pages[0]
    rate = cer("\n".join(TEXTS[language]), text)
    assert rate < 0.02, f"{language}: CER {rate:.1%}\n{text}"
    assert result.method == "ocr" and confidence is not None and confidence > 70


def test_degraded_page_is_still_read(tmp_path: Path):
    image = page_image(TEXTS["uzb"], tmp_path / "page.png", degraded=True)
    text, _ = extract(image, "image/png", languages="uzb").pages[0]
    assert cer("\n".join(TEXTS["uzb"]), text) < 0.15  # a measure for the record, not the 2% goal


def test_multipage_tiff_and_image_only_pdf_keep_their_pages(tmp_path: Path):
    pages = [Image.open(page_image(TEXTS[lang], tmp_path / f"{lang}.png")) for lang in ("eng", "rus")]
    tiff = tmp_path / "scan.tiff"
    pages[0].save(tiff, save_all=True, append_images=pages[1:], dpi=(300, 300))
    result = extract(tiff, "image/tiff", languages="eng+rus")
    assert len(result.pages) == 2 and "catalogue" in result.pages[0][0] and "каталог" in result.pages[1][0]
    pdf = tmp_path / "scan.pdf"
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=300)
    result = extract(pdf, "application/pdf", languages="eng+rus")
    assert result.method == "ocr" and len(result.pages) == 2 and "electronic" in result.pages[0][0]


def test_pdf_text_layer_page_by_page(tmp_path: Path):
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(text_pdf([["Birinchi sahifa: O'zbekiston kutubxonalari"], ["Second page, second line"]]))
    result = extract(pdf, "application/pdf")
    assert result.method == "pdftotext" and len(result.pages) == 2
    assert "Oʻzbekiston" in result.pages[0][0]  # the apostrophe folded to U+02BB
    assert "Second page" in result.pages[1][0]


def test_bad_pdfs_are_failures_with_a_reason(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(text_pdf([["Secret text"]]))
    writer = PdfWriter()
    for page in PdfReader(str(plain)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="sir", owner_password="sir")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as fh:
        writer.write(fh)
    with pytest.raises(ExtractionError, match="password|encrypt"):
        extract(locked, "application/pdf")
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\nthis is not a PDF body\n")
    with pytest.raises(ExtractionError):
        extract(corrupt, "application/pdf", ocr_mode="never")
    unreadable = tmp_path / "x.png"
    unreadable.write_bytes(b"\x89PNG\r\n\x1a\n" + b"broken" * 10)
    with pytest.raises(ExtractionError, match="image"):
        extract(unreadable, "image/png")
    with pytest.raises(ExtractionError, match="octet-stream"):
        extract(tmp_path / "x.png", "application/octet-stream")


def test_apostrophes_and_languages():
    assert normalise("O'zbek g`alla o‘qish g’oya ma'lumot") == "Oʻzbek gʻalla oʻqish gʻoya maʼlumot"
    assert languages_for(["uzb"]) == "uzb+uzb_cyrl"
    assert languages_for(["rus", "eng"]) == "rus+eng"
    assert languages_for([]) == "uzb+uzb_cyrl+rus+eng"


def test_apostrophes_are_folded_only_where_uzbek_may_be(tmp_path):
    from repository.fulltext.extract import extract

    assert normalise("don't, it's, we're, I've, you'll, she'd, I'm") == "don't, it's, we're, I've, you'll, she'd, I'm"
    assert normalise("Oʻzbekiston's g'alla") == "Oʻzbekiston's gʻalla"
    text = tmp_path / "note.txt"
    text.write_text("O'Brien's ma'lumot")
    assert extract(text, "text/plain", languages="eng").pages[0][0] == "O'Brien's ma'lumot"
    assert extract(text, "text/plain", languages="uzb+eng").pages[0][0] == "OʻBrien's maʼlumot"


def test_an_image_past_the_bomb_limit_is_refused_not_decoded(tmp_path: Path):
    from repository.fulltext.ocr import image_pages

    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)  # 400 million pixels in a few kilobytes
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ExtractionError, match="image too large to decode safely"):
        image_pages(bomb, tmp_path)


def test_a_pdf_is_rasterised_a_few_pages_at_a_time(tmp_path: Path, monkeypatch):
    require(shutil.which("pdftoppm") is not None and shutil.which("tesseract") is not None, "poppler, tesseract")
    from repository.fulltext import ocr

    scans = [page_image([f"Sahifa {n}"], tmp_path / f"p{n}.png") for n in range(1, 6)]
    pdf = tmp_path / "scan.pdf"
    images = [Image.open(s).convert("RGB") for s in scans]
    images[0].save(pdf, save_all=True, append_images=images[1:], resolution=300)
    most = []
    real = ocr.recognise_pages

    def counting(pages, languages, seconds):  # noqa: ANN001, ANN202
        most.append(len(list(pages[0].parent.glob("*.png"))))  # what is on disk while a batch is read
        return real(pages, languages, seconds)

    monkeypatch.setattr(ocr, "recognise_pages", counting)
    texts = [text for text, _ in ocr.ocr_file(pdf, "application/pdf", "uzb")]
    assert [" ".join(t.split()) for t in texts] == [f"Sahifa {n}" for n in range(1, 6)]
    assert max(most) <= (os.cpu_count() or 1) and len(most) == -(-5 // (os.cpu_count() or 1))


def test_a_hung_tesseract_fails_its_file_and_the_run_goes_on(cli, tmp_path: Path, monkeypatch, services):
    from dataclasses import replace

    from tests.helpers import import_json, marc, write

    real = shutil.which("tesseract")
    require(real is not None, "tesseract")
    fake = tmp_path / "bin"
    fake.mkdir()
    once = tmp_path / "hung-once"
    # the first page hangs; every later one is read by the real tesseract
    (fake / "tesseract").write_text(
        f'#!/bin/sh\nif [ ! -e {once} ]; then touch {once}; sleep 30; fi\nexec {real} "$@"\n'
    )
    (fake / "tesseract").chmod(0o755)
    import_json(cli, write(tmp_path / "r.mrc", marc("H1", "Qoʻlyozma")))
    for name in ("birinchi.png", "ikkinchi.png"):
        cli("attach", "H1", page_image(["Qoʻlyozma sahifasi"], tmp_path / name), "--ocr", "never")
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    monkeypatch.setattr(services, "settings", replace(services.settings, ocr_page_seconds=1))
    started = time.monotonic()
    result = cli("ocr", "--all", "--redo", "--lang", "uzb", code=1)
    assert time.monotonic() - started < 20  # one second for the hung page, not thirty
    assert "2 files, 1 failed" in result.stdout
    files = {f["name"]: f for f in json.loads(cli("show", "H1", "--format", "json").stdout)["files"]}
    assert files["birinchi.png"]["extraction"] == "failed"
    assert "tesseract took longer than 1 s on one page" in files["birinchi.png"]["message"]
    assert files["ikkinchi.png"]["extraction"] == "done" and "sahifasi" in files["ikkinchi.png"]["pages"][0]["text"]
