"""OCR with tesseract (Uzbek Latin and Cyrillic, Russian, English): the only module that runs it.

Pages are recognised in parallel, up to the number of cores, each tesseract limited to one thread
(OMP_THREAD_LIMIT=1: several times faster on few cores than letting each page use them all).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from repository.fulltext.errors import ExtractionError
from repository.fulltext.pdf import page_count, render_pages
from repository.fulltext.uzbek import is_uzbek_latin, normalise

LANGUAGES = ("uzb", "uzb_cyrl", "rus", "eng")
PAGE_SECONDS = 300.0  # KUTUBXONA_OCR_PAGE_SECONDS: a hung tesseract fails its file, not the run
# MARC/ISO 639-2 codes of the record's languages -> tesseract models
_MODELS = {"uzb": ("uzb", "uzb_cyrl"), "rus": ("rus",), "eng": ("eng",), "kaa": ("uzb", "uzb_cyrl")}


def languages_for(record_languages: Sequence[str]) -> str:
    """Tesseract's -l for a record's languages (all four when none is known)."""
    models: list[str] = []
    for code in record_languages:
        for model in _MODELS.get(code.lower()[:3], ()):
            if model not in models:
                models.append(model)
    return "+".join(models or LANGUAGES)


def installed_languages() -> list[str] | None:
    """The language models tesseract has (None when tesseract is not installed)."""
    try:
        done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    # the first line is a heading ("List of available languages in ...: N")
    return [line.strip() for line in done.stdout.splitlines()[1:] if line.strip()]


def image_pages(path: Path, folder: Path) -> list[Path]:
    """The pages of an image file (every frame of a multi-page TIFF) as PNG files to recognise.

    An image past Pillow's decompression-bomb limit (a few kilobytes that would unpack to gigabytes)
    is refused, not decoded.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _frames(path, folder)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ExtractionError(f"image too large to decode safely: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ExtractionError(f"not an image tesseract can read: {exc}") from None


def _frames(path: Path, folder: Path) -> list[Path]:
    with Image.open(path) as image:
        pages = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            out = folder / f"frame-{index:04d}.png"
            image.convert("L" if image.mode not in ("1", "L") else image.mode).save(out)
            pages.append(out)
        return pages


def recognise(path: Path, languages: str, seconds: float = PAGE_SECONDS) -> tuple[str, float | None]:
    """Text and mean word confidence (0-100) of one page image; a page over ``seconds`` fails."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(["tesseract", str(path), "stdout", "-l", languages, "tsv"],
                              capture_output=True, env=env, timeout=seconds)  # fmt: skip
    except FileNotFoundError:
        raise ExtractionError("tesseract is not installed") from None
    except subprocess.TimeoutExpired:
        raise ExtractionError(f"tesseract took longer than {seconds:g} s on one page") from None
    if done.returncode != 0:
        raise ExtractionError(f"tesseract failed: {done.stderr.decode('utf-8', 'replace').strip()[-200:]}")
    text, mean = _from_tsv(done.stdout.decode("utf-8", "replace"))
    return (normalise(text) if is_uzbek_latin(languages) else text), mean


def _from_tsv(tsv: str) -> tuple[str, float | None]:
    """Lines of words (by block, paragraph and line) and the mean confidence of the words."""
    lines: dict[tuple[str, str, str], list[str]] = {}
    confidences: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        lines.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(word)
        with contextlib.suppress(TypeError, ValueError):  # a row without a number: no confidence to count
            confidences.append(float(row["conf"]))
    text = "\n".join(" ".join(words) for words in lines.values())
    mean = round(sum(confidences) / len(confidences), 1) if confidences else None
    return text, mean


def recognise_pages(
    pages: Sequence[Path], languages: str, seconds: float = PAGE_SECONDS
) -> list[tuple[str, float | None]]:
    """Recognise pages in parallel, in order."""
    workers = max(1, min(len(pages), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda page: recognise(page, languages, seconds), pages))


def ocr_file(path: Path, mime: str, languages: str, seconds: float = PAGE_SECONDS) -> list[tuple[str, float | None]]:
    """OCR an image file or an image-only PDF, page by page."""
    return [page for _total, batch in ocr_batches(path, mime, languages, seconds) for page in batch]


def ocr_batches(
    path: Path, mime: str, languages: str, seconds: float = PAGE_SECONDS, first: int = 1
) -> Iterator[tuple[int, list[tuple[str, float | None]]]]:
    """OCR an image file or an image-only PDF from page ``first``, as many pages at a time as are recognised
    at once: (the file's number of pages, the pages of this batch), in order.

    A PDF's pages are rasterised a batch at a time and deleted once read, so a book of a thousand
    pages needs the temporary disk of a few; a caller that stores each batch before asking for the
    next can stop between batches and go on later from the page after.
    """
    step = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="kutubxona-ocr-") as tmp:
        folder = Path(tmp)
        if mime != "application/pdf":
            pages = image_pages(path, folder)
            if not pages:
                raise ExtractionError("no pages to recognise")
            for at in range(first - 1, len(pages), step):
                yield len(pages), recognise_pages(pages[at : at + step], languages, seconds)
            return
        count = page_count(path)
        if not count:
            raise ExtractionError("no pages to recognise")
        for at in range(first, count + 1, step):
            batch = render_pages(path, folder, first=at, last=min(at + step - 1, count))
            recognised = recognise_pages(batch, languages, seconds)
            for page in batch:
                page.unlink()
            yield count, recognised
