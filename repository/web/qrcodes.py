"""QR codes as SVG (segno, imported here only): a printed card or a screen leads to a record's page."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, scale: int = 4) -> bytes:
    """An SVG QR code of ``url`` (error correction M: a card survives a scratch), with a title for readers."""
    out = io.BytesIO()
    # quiet zone of 4 modules: the standard's minimum, which phone cameras need to find the code
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=scale, border=4, title=url,
                                                 xmldecl=False, svgns=True)  # fmt: skip
    return out.getvalue()
