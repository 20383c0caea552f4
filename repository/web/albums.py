"""QR albums as PDF (fpdf2, imported here only): A4 sheets of cards, each a title, author, year and QR code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
