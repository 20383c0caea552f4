"""QR codes as SVG (segno, imported here only): a printed card or a screen leads to a record's page."""

from __future__ import annotations

import io

import segno

BORDER = 4  # quiet zone in modules: the standard's minimum, which phone cameras need to find the code


def qr_modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of ``url`` as rows of dark (True) and light modules, quiet zone included, to draw elsewhere."""
    code = segno.make(url, error="m", micro=False)
    return tuple(tuple(bool(dark) for dark in row) for row in code.matrix_iter(border=BORDER))


def qr_svg(url: str, scale: int = 4) -> bytes:
    """An SVG QR code of ``url`` (error correction M: a card survives a scratch), with a title for readers."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=scale, border=BORDER, title=url,
                                                 xmldecl=False, svgns=True)  # fmt: skip
    return out.getvalue()
