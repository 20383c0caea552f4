"""Which character encoding the bytes of one ISO 2709 record are in.

The leader (MARC 21 leader/09) and UNIMARC 100$a/26-29 say what a record claims; the bytes say what
it is. Files exported by CIS library systems often carry Windows-1251 or KOI8-R with a blank
leader/09, and MARC-8 records are sometimes labelled UTF-8: the bytes win, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

UTF8 = "utf-8"
MARC8 = "marc-8"
CP1251 = "cp1251"
KOI8R = "koi8-r"
CP866 = "cp866"
ENCODINGS = (UTF8, MARC8, CP1251, KOI8R, CP866)

# UNIMARC 100$a/26-29: character sets (G0, G1).  50 = ISO 10646 (UTF-8); 79 and 89 are RUSMARC's
# CP866 and Windows-1251; 02/04 = basic/extended Cyrillic, written in practice as 8-bit Cyrillic.
_UNIMARC_SETS = {"50": UTF8, "79": CP866, "89": CP1251}
_UNIMARC_CYRILLIC = {"02", "04"}


@dataclass(frozen=True)
class Guess:
    """The encoding to decode with, and a warning when it differs from what the record claims."""

    encoding: str
    warning: str | None = None


def unimarc_charset(field_100a: str | None) -> str | None:
    """The encoding UNIMARC 100$a/26-29 names, or ``"cyrillic"`` for an 8-bit Cyrillic set, or None."""
    if not field_100a or len(field_100a) < 28:
        return None
    sets = [field_100a[26:28], field_100a[28:30]]
    for code in sets:
        if code in _UNIMARC_SETS:
            return _UNIMARC_SETS[code]
    if any(code in _UNIMARC_CYRILLIC for code in sets):
        return "cyrillic"
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def guess_legacy(data: bytes) -> str:
    """Tell 8-bit Cyrillic (Windows-1251, KOI8-R, CP866) from MARC-8 by the shape of the high bytes.

    MARC-8 puts a combining mark (0xE0-0xFE) before an ASCII letter; Cyrillic code pages put
    letters in runs of high bytes.  Windows-1251 has lower case at 0xE0-0xFF, KOI8-R at 0xC0-0xDF,
    CP866 mostly at 0x80-0xAF.
    """
    if b"\x1b" in data:
        return MARC8
    high = runs = 0
    for i, byte in enumerate(data):
        if byte >= 0x80:
            high += 1
            if i + 1 < len(data) and data[i + 1] >= 0x80:
                runs += 1
    if high == 0 or runs * 2 < high:
        return MARC8
    upper = sum(1 for b in data if 0xC0 <= b <= 0xDF)
    lower = sum(1 for b in data if b >= 0xE0)
    low_block = sum(1 for b in data if 0x80 <= b <= 0xAF)
    if low_block > (upper + lower):
        return CP866
    return CP1251 if lower >= upper else KOI8R


def detect(data: bytes, leader9: str, unimarc_100a: str | None = None) -> Guess:
    """Decide how to decode ``data`` (the record's field bytes) given its leader/09 and UNIMARC 100$a."""
    if data.isascii() and b"\x1b" not in data:
        return Guess(UTF8)  # plain ASCII reads the same in every encoding we know
    claimed = unimarc_charset(unimarc_100a) if unimarc_100a is not None else None
    if leader9 == "a" or claimed == UTF8:
        if _is_utf8(data):
            return Guess(UTF8)
        legacy = guess_legacy(data)
        return Guess(legacy, f"record says UTF-8 but its bytes are not UTF-8; read as {legacy}")
    if claimed in (CP1251, KOI8R, CP866):
        return Guess(claimed)
    if b"\x1b" in data:
        return Guess(MARC8)  # MARC-8 escape sequences: never part of UTF-8 text
    if _is_utf8(data):
        return Guess(UTF8, "leader/09 is blank but the bytes are UTF-8; read as UTF-8")
    legacy = guess_legacy(data)
    if claimed == "cyrillic" and legacy == MARC8:
        legacy = CP1251
    return Guess(legacy)
