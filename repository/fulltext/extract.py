"""Choosing how to get a file's text: its own text layer, OCR, or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repository.fulltext import ocr
from repository.fulltext.errors import ExtractionError
from repository.fulltext.pdf import pdf_pages
from repository.fulltext.uzbek import is_uzbek_latin, normalise

IMAGES = {"image/tiff", "image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp", "image/jp2"}
OCR_MODES = ("auto", "always", "never")


@dataclass
class Extraction:
    """The text of a file, page by page, and how it was obtained."""

    pages: list[tuple[str, float | None]]  # (text, OCR confidence or None)
    method: str  # pdftotext, ocr, none
    languages: str = ""

    @property
    def confidence(self) -> float | None:
        """Mean OCR confidence over the pages that have one."""
        values = [c for _, c in self.pages if c is not None]
        return round(sum(values) / len(values), 1) if values else None


def extract(
    path: Path, mime: str, ocr_mode: str = "auto", languages: str = "", page_seconds: float = ocr.PAGE_SECONDS
) -> Extraction:
    """Text of a stored file, every page; raise ``ExtractionError`` with the reason when there is none to be had."""
    found = own_text(path, mime, ocr_mode, languages)
    if found.method == "ocr":
        found.pages = ocr.ocr_file(path, mime, found.languages, page_seconds)
    return found


def own_text(path: Path, mime: str, ocr_mode: str = "auto", languages: str = "") -> Extraction:
    """The file's own text (a PDF's text layer, a text file), or method ``ocr`` with no pages yet when its
    pages must be recognised (``ocr.ocr_batches``), or ``none``; ``ExtractionError`` when it has no text to be had.
    """
    langs = languages or ocr.languages_for(())
    fold = normalise if is_uzbek_latin(langs) else str  # Uzbek apostrophes only where Uzbek may be
    if mime == "application/pdf":
        pages = pdf_pages(path) if ocr_mode != "always" else []
        has_text = any(len(p.strip()) > 20 for p in pages)
        if has_text or ocr_mode == "never":
            return Extraction([(fold(p), None) for p in pages], "pdftotext")
        return Extraction([], "ocr", langs)  # an image-only PDF: scans
    if mime in IMAGES:
        return Extraction([], "none") if ocr_mode == "never" else Extraction([], "ocr", langs)
    if mime.startswith("text/"):
        return Extraction([(fold(path.read_text("utf-8", errors="replace")), None)], "text")
    raise ExtractionError(f"no text can be extracted from {mime}")
