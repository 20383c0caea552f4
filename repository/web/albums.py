"""QR albums as PDF (fpdf2, imported here only): A4 sheets of cards, each a title, author, year and QR code;
and the albums already made, kept for the node's workers.

Making an album of 60 cards costs about a second of CPU (its QR codes, then the PDF), so a made
album is kept in a folder every worker of the node shares (``VAR_DIR/albums``), under a key of
everything it shows: its heading (the collection's name, the part), its language, each card's
title, author, year and address in their order (so a record's change, the exhibition's order,
a record leaving, all make a new key), the font file and this module's code.  The least recently
used albums go when the folder passes its bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import fpdf
from fpdf import FPDF

# A4 in millimetres, two columns of three cards: a sheet cut in six gives cards of about 9 x 9 cm
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 12.0
COLUMNS, ROWS, GAP = 2, 3, 6.0
QR_SIZE = 38.0  # at 4 mm or more per 10 modules a phone reads the code from arm's length
TITLE_LINES = 5


@dataclass(frozen=True)
class Card:
    """One card of an album: what it says and the QR code (rows of dark modules) that leads to the record."""

    title: str
    author: str
    year: str
    url: str
    modules: tuple[tuple[bool, ...], ...]


class FontMissing(RuntimeError):
    """The TrueType font the PDF needs is not on this machine."""


# what this code draws, and with which fpdf2: an upgrade makes every album again
_CODE = hashlib.sha256(Path(__file__).read_bytes() + fpdf.FPDF_VERSION.encode()).hexdigest()
CACHE_BYTES = 64 << 20  # about 800 albums of 60 cards (some 80 KB each)


def album_key(heading: str, faces: list[tuple[str, str, str, str]], font: Path, language: str) -> str:
    """The key of the album of these card faces (title, author, year, address), as ``album_pdf`` would draw it."""
    try:
        stat = font.stat()
        stamp = [str(font), stat.st_size, stat.st_mtime_ns]
    except OSError:
        stamp = [str(font), None, None]  # missing: nothing is made, nothing kept
    text = json.dumps([_CODE, heading, language, stamp, faces], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class AlbumCache:
    """Albums already made, as files in ``folder`` (shared by the node's workers), at most ``max_bytes`` of them."""

    def __init__(self, folder: Path, max_bytes: int = CACHE_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def get(self, key: str) -> bytes | None:
        """The album kept under ``key``, or None; a hit counts as a use (the least recently used go first)."""
        path = self.folder / f"{key}.pdf"
        try:
            body = path.read_bytes()
            _used(path)
        except FileNotFoundError:  # never made, or pruned by another worker meanwhile
            return None
        return body

    def put(self, key: str, body: bytes) -> None:
        """Keep ``body`` under ``key``, then let the least recently used albums go past the bound."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # each writer its own name: two threads or workers may make one album at once, and with one name per
        # process a thread truncated the file the other had just renamed into place (a reader got half a PDF)
        # and then found nothing to rename (a 500)
        fd, name = tempfile.mkstemp(dir=self.folder, prefix=f"{key}.", suffix=".tmp")
        partial = Path(name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        _used(partial)
        partial.replace(self.folder / f"{key}.pdf")  # a reader never sees half a file
        self._prune(keep=key)

    def _prune(self, keep: str) -> None:
        entries = []
        for path in self.folder.glob("*.pdf"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path.stem != keep:  # the album just made stays, even alone past the bound
                path.unlink(missing_ok=True)
                total -= size


def _used(path: Path) -> None:
    """Mark ``path`` as just used: its time set from the clock to the nanosecond (the kernel's own stamp of
    a write or of ``utime()`` without times is coarse, a few milliseconds, so two uses could tie)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def album_pdf(heading: str, cards: list[Card], font: Path, language: str) -> bytes:
    """A PDF of ``cards``, six to an A4 sheet, each sheet headed by ``heading`` and numbered."""
    if not font.is_file():
        raise FontMissing(f"the PDF font {font} is missing (KUTUBXONA_PDF_FONT; Debian: fonts-dejavu-core)")
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN)
    pdf.set_title(heading)
    pdf.set_lang(language)
    pdf.set_creator("Kutubxona")
    pdf.add_font("body", "", str(font))
    card_w = (PAGE_W - 2 * MARGIN - (COLUMNS - 1) * GAP) / COLUMNS
    top = MARGIN + 10
    card_h = (PAGE_H - top - MARGIN - (ROWS - 1) * GAP) / ROWS
    per_sheet = COLUMNS * ROWS
    for n, card in enumerate(cards):
        if n % per_sheet == 0:
            _sheet(pdf, heading, n // per_sheet + 1, -(-len(cards) // per_sheet))
        row, column = divmod(n % per_sheet, COLUMNS)
        _card(pdf, card, MARGIN + column * (card_w + GAP), top + row * (card_h + GAP), card_w, card_h)
    if not cards:
        _sheet(pdf, heading, 1, 1)
    return bytes(pdf.output())


def _sheet(pdf: FPDF, heading: str, number: int, of: int) -> None:
    pdf.add_page()
    pdf.set_font("body", size=10)
    pdf.set_text_color(80)
    pdf.set_xy(MARGIN, MARGIN)
    pdf.cell(PAGE_W - 2 * MARGIN - 20, 6, heading)
    pdf.cell(20, 6, f"{number} / {of}", align="R")
    pdf.set_text_color(0)


def _card(pdf: FPDF, card: Card, x: float, y: float, w: float, h: float) -> None:
    pdf.set_draw_color(160)
    pdf.rect(x, y, w, h)
    _qr(pdf, card.modules, x + (w - QR_SIZE) / 2, y + h - QR_SIZE - 9)
    inner = w - 8
    pdf.set_font("body", size=11)
    lines = pdf.multi_cell(inner, 5, card.title, dry_run=True, output="LINES")
    if len(lines) > TITLE_LINES:
        lines = [*lines[: TITLE_LINES - 1], lines[TITLE_LINES - 1].rstrip() + " …"]
    pdf.set_xy(x + 4, y + 4)
    pdf.multi_cell(inner, 5, "\n".join(lines), new_x="LEFT", new_y="NEXT")
    pdf.set_font("body", size=9)
    for text in (card.author, card.year):
        if text:
            pdf.set_x(x + 4)
            pdf.cell(inner, 4.5, text, new_x="LEFT", new_y="NEXT")
    pdf.set_font("body", size=7)
    pdf.set_text_color(90)
    pdf.set_xy(x + 4, y + h - 8)
    pdf.cell(inner, 4, card.url, align="C")
    pdf.set_text_color(0)


def _qr(pdf: FPDF, modules: tuple[tuple[bool, ...], ...], x: float, y: float) -> None:
    """Draw a QR code as filled runs of dark modules (one rectangle per run, not per module)."""
    size = QR_SIZE / len(modules)
    pdf.set_fill_color(0)
    for r, row in enumerate(modules):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + start * size, y + r * size, (c - start) * size, size, style="F")
