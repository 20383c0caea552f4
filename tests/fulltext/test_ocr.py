"""OCR of Uzbek (both scripts), Russian and English pages the tests render; PDF text layers; bad input."""

from __future__ import annotations

import shutil
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
