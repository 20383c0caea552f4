"""Which character encoding the bytes of one ISO 2709 record are in.

The leader (MARC 21 leader/09) and UNIMARC 100$a/26-29 say what a record claims; the bytes say what
it is. Files exported by CIS library systems often carry Windows-1251 or KOI8-R with a blank
leader/09, and MARC-8 records are sometimes labelled UTF-8: the bytes win, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from charset_normalizer import from_bytes

UTF8 = "utf-8"
MARC8 = "marc-8"
CP1251 = "cp1251"
KOI8R = "koi8-r"
CP866 = "cp866"
ISO88595 = "iso8859-5"
ENCODINGS = (UTF8, MARC8, CP1251, KOI8R, CP866, ISO88595)
CYRILLIC_PAGES = (CP1251, KOI8R, CP866, ISO88595)

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


def detect(data: bytes, leader9: str, unimarc_100a: str | None = None, file_page: str | None = None) -> Guess:
    """Decide how to decode ``data`` (the record's field bytes) given its leader/09 and UNIMARC 100$a.

    ``file_page`` is the 8-bit code page decided for the whole file (``choose_for_file``): a record
    whose bytes are neither ASCII nor UTF-8 and that names no code page is read in it.
    """
    if data.isascii() and b"\x1b" not in data:
        return Guess(UTF8)  # plain ASCII reads the same in every encoding we know
    claimed = unimarc_charset(unimarc_100a) if unimarc_100a is not None else None
    if leader9 == "a" or claimed == UTF8:
        if _is_utf8(data):
            return Guess(UTF8)
        legacy = file_page or guess_legacy(data)
        return Guess(legacy, f"record says UTF-8 but its bytes are not UTF-8; read as {legacy}")
    if claimed in (CP1251, KOI8R, CP866):
        return Guess(claimed)
    if b"\x1b" in data:
        if file_page and file_page != MARC8:
            return Guess(MARC8, f"read as MARC-8 (its bytes hold MARC-8 escape sequences), not {file_page} as the "
                                "rest of the file")  # fmt: skip
        return Guess(MARC8)  # MARC-8 escape sequences: never part of UTF-8 text
    if _is_utf8(data):
        return Guess(UTF8, "leader/09 is blank but the bytes are UTF-8; read as UTF-8")
    if file_page:
        return _against_file(data, file_page)
    legacy = guess_legacy(data)
    if claimed == "cyrillic" and legacy == MARC8:
        legacy = CP1251
    return Guess(legacy)


def _against_file(data: bytes, file_page: str) -> Guess:
    """The file's code page, with a warning when this record's own bytes say otherwise."""
    if file_page != MARC8:
        if _ansel_like(data):
            return Guess(MARC8, f"read as MARC-8 (its bytes are combining marks before letters), not {file_page} "
                                "as the rest of the file")  # fmt: skip
        try:
            data.decode(file_page)
        except UnicodeDecodeError:
            return Guess(file_page, f"some bytes have no character in {file_page}, the code page of the file")
        return Guess(file_page)
    if not _ansel_like(data):
        own = guess_legacy(data)
        if own != MARC8:
            return Guess(MARC8, f"its bytes look like {own}, but the file's code page is MARC-8; read as MARC-8")
    return Guess(MARC8)


# ANSEL (ANSI/NISO Z39.47), MARC-8's default G1 set: the bytes it defines; E0-FE are combining marks
_ANSEL = frozenset([0x88, 0x89, 0x8D, 0x8E, *range(0xA1, 0xAF), *range(0xB0, 0xBB), 0xBC, 0xBD, *range(0xC0, 0xC9),
                    *range(0xE0, 0xFC), 0xFE])  # fmt: skip
_MARKS = re.compile(rb"\x1f.?", re.DOTALL)
SAMPLE_BYTES = 4 << 20  # enough text to tell code pages apart; a file's first 4 MB of 8-bit records


def _ansel_like(data: bytes) -> bool:
    """True when every high byte is ANSEL and most are combining marks on a Latin letter, as in MARC-8.

    MARC-8 writes a combining mark (E0-FE) before the letter it sits on: one to three marks, then an
    ASCII letter.  Cyrillic code pages put letters in runs of high bytes that end at a space.
    """
    high = marks = 0
    run = 0  # combining marks in a row so far
    for byte in data:
        if byte >= 0x80:
            if byte not in _ANSEL:
                return False
            high += 1
            run = run + 1 if byte >= 0xE0 else 0
            continue
        if run and run <= 3 and (0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A):
            marks += run
        run = 0
    return high > 0 and marks * 2 >= high


@dataclass(frozen=True)
class FileChoice:
    """The code page of a file's 8-bit records, decided from all of them, and why."""

    encoding: str | None  # None: the file has no record in an 8-bit code page
    why: str


def choose_for_file(bodies: Iterable[bytes]) -> FileChoice:
    """Decide the 8-bit code page of a file from the field bytes of all its records.

    Records in ASCII, in UTF-8 or with MARC-8 escape sequences say what they are; the others are
    gathered and read as a whole: MARC-8 when they look like ANSEL (combining marks before
    letters), else the Cyrillic code page whose reading is least messy and most like Russian or
    Uzbek text (letter and bigram frequencies, case-insensitive, by ``charset_normalizer``).  When
    the evidence is even, Windows-1251 wins: it is what the region's library systems export.
    """
    sample = bytearray()
    count = 0
    for body in bodies:
        if body.isascii() or b"\x1b" in body or _is_utf8(body):
            continue
        count += 1
        if len(sample) < SAMPLE_BYTES:
            # the text alone: subfield marks with their codes and field ends would read as mess
            sample += _MARKS.sub(b" ", body).replace(b"\x1e", b"\n").replace(b"\x1d", b"\n")
    if not count:
        return FileChoice(None, "no record in an 8-bit code page")
    data = bytes(sample)
    found = from_bytes(data, cp_isolation=list(CYRILLIC_PAGES), threshold=0.5)  # short titles are messy
    readings = {_page_name(r.encoding): r for r in found}
    best = min(readings.values(), key=lambda r: (r.chaos, -r.coherence), default=None)
    if _ansel_like(data) and (best is None or best.coherence < 0.1):
        return FileChoice(MARC8, f"{count} records in 8-bit code pages read as MARC-8: their high bytes are "
                                 "ANSEL, mostly combining marks before letters")  # fmt: skip
    if best is None:
        return FileChoice(CP1251, f"{count} records in 8-bit code pages: no code page reads them cleanly; "
                                  "Windows-1251, the region's usual one")  # fmt: skip
    choice = _page_name(best.encoding)
    cp1251 = readings.get(CP1251)
    even = (choice != CP1251 and cp1251 is not None
            and cp1251.chaos <= best.chaos + 0.01 and cp1251.coherence >= best.coherence - 0.05)  # fmt: skip
    if even:
        choice, best = CP1251, cp1251
    language = best.language if best.language and best.language != "Unknown" else "no language in particular"
    why = f"{count} records in 8-bit code pages read as {choice}: {best.chaos:.0%} mess, {best.coherence:.0%} like"
    why += f" {language}"
    others = [f"{name} {r.chaos:.0%} mess, {r.coherence:.0%}" for name, r in readings.items() if name != choice]
    if others:
        why += f" ({'; '.join(others)}" + ("; even evidence goes to Windows-1251)" if even else ")")
    return FileChoice(choice, why)


def _page_name(codec: str) -> str:
    return {"koi8_r": KOI8R, "iso8859_5": ISO88595, "cp1251": CP1251, "cp866": CP866}.get(codec, codec)
