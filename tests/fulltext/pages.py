"""Test material the tests make themselves: page images rendered with DejaVu, PDFs with a text layer."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

TEXTS = {
    "uzb": [
        "Oʻzbekiston Respublikasi axborot-kutubxona markazlari",
        "raqamli texnologiyalar yordamida elektron katalog yaratadi.",
        "Gʻafur Gʻulom nomidagi nashriyot kitoblari oʻquvchilarga",
        "masofadan foydalanish uchun taqdim etiladi.",
    ],
    "uzb_cyrl": [
        "Ўзбекистон Республикаси ахборот-кутубхона марказлари",
        "рақамли технологиялар ёрдамида электрон каталог яратади.",
        "Ғафур Ғулом номидаги нашриёт китоблари ўқувчиларга",
        "масофадан фойдаланиш учун тақдим этилади.",
    ],
    "rus": [
        "Информационно-библиотечные центры Республики",
        "создают электронный каталог с помощью цифровых",
        "технологий и предоставляют читателям удалённый",
        "доступ к полным текстам книг и журналов.",
    ],
    "eng": [
        "Information and library centres of the Republic",
        "create an electronic catalogue with digital",
        "technologies and give readers remote access",
        "to the full texts of books and journals.",
    ],
}


def page_image(lines: list[str], path: Path, degraded: bool = False) -> Path:
    """A 300 dpi page (12 pt DejaVu Sans, black on white); ``degraded`` blurs, rotates and adds noise."""
    font = ImageFont.truetype(str(FONT), 50)  # 12 pt at 300 dpi
    image = Image.new("L", (2480, 150 + 90 * len(lines)), 255)  # A4 width
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((150, 80 + 90 * n), line, font=font, fill=0)
    if degraded:
        image = image.rotate(0.7, fillcolor=255).filter(ImageFilter.GaussianBlur(1.2))
        noise = random.Random(7)
        pixels = image.load()
        for _ in range(image.width * image.height // 60):
            x, y = noise.randrange(image.width), noise.randrange(image.height)
            pixels[x, y] = noise.choice((0, 255))
    image.save(path, dpi=(300, 300))
    return path


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with a real text layer (Helvetica, ASCII text), one page per list of lines."""
    objects: list[bytes] = []
    kids = []
    font_id = 3 + 2 * len(pages)
    for n, lines in enumerate(pages):
        page_id, content_id = 3 + 2 * n, 4 + 2 * n
        kids.append(f"{page_id} 0 R")
        stream = "BT /F1 14 Tf 72 720 Td 18 TL " + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for line in lines
        ) + " ET"  # fmt: skip
        objects.append(
            f"{page_id} 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Contents {content_id} 0 R /Resources << /Font << /F1 {font_id} 0 R >> >> >> endobj\n".encode()
        )
        objects.append(f"{content_id} 0 obj << /Length {len(stream)} >> stream\n{stream}\nendstream endobj\n".encode())
    head = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
        f"2 0 obj << /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >> endobj\n".encode(),
    ]
    font = f"{font_id} 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n".encode()
    body = b"%PDF-1.4\n"
    offsets = []
    for obj in [*head, *objects, font]:
        offsets.append(len(body))
        body += obj
    xref = len(body)
    body += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += f"trailer << /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def cer(expected: str, got: str) -> float:
    """Character error rate, after folding Uzbek apostrophes and whitespace."""
    from repository.fulltext.uzbek import normalise

    def fold(text: str) -> str:
        return " ".join(normalise(text).replace("\u02bc", "\u02bb").split())

    a, b = fold(expected), fold(got)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / max(len(a), 1)
