"""Text of PDFs with a text layer: pdftotext (poppler-utils) page by page, pypdf as the fallback."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from repository.fulltext.errors import ExtractionError


def pdf_pages(path: Path) -> list[str]:
    """The text of each page; raise ``ExtractionError`` for an encrypted, corrupt or unreadable PDF."""
    if shutil.which("pdftotext"):
        return _pdftotext(path)
    return _pypdf(path)


def _pdftotext(path: Path) -> list[str]:
    try:
        done = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"], capture_output=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        raise ExtractionError("pdftotext took longer than 10 minutes") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = message[-1] if message else f"pdftotext exit status {done.returncode}"
        if "password" in reason.lower() or "encrypt" in reason.lower():
            raise ExtractionError(f"encrypted or password-protected PDF: {reason}")
        raise ExtractionError(f"unreadable PDF: {reason}")
    pages = done.stdout.decode("utf-8", "replace").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()  # pdftotext ends every page, the last one too, with a form feed
    return pages


def _pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise ExtractionError("encrypted or password-protected PDF")
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, OSError) as exc:
        raise ExtractionError(f"unreadable PDF: {exc}") from None


def page_count(path: Path) -> int:
    """How many pages a PDF has (pdfinfo); raise ``ExtractionError`` for an unreadable one."""
    if not shutil.which("pdfinfo"):
        raise ExtractionError("pdfinfo (poppler-utils) is not installed: cannot OCR a PDF")
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, timeout=120)
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
    raise ExtractionError(f"unreadable PDF: {reason[-1] if reason else 'no page count'}")


def render_pages(path: Path, folder: Path, first: int, last: int, dpi: int = 300) -> list[Path]:
    """Rasterise pages ``first`` to ``last`` of an image-only PDF to PNG (pdftoppm), for OCR."""
    if not shutil.which("pdftoppm"):
        raise ExtractionError("pdftoppm (poppler-utils) is not installed: cannot OCR a PDF")
    prefix = folder / f"page-{first:05d}"
    done = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(first), "-l", str(last), "-png", str(path),
                           str(prefix)], capture_output=True, timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise ExtractionError(f"cannot render the PDF's pages: {done.stderr.decode('utf-8', 'replace').strip()}")
    return sorted(folder.glob(f"{prefix.name}*.png"))
