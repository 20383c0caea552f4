"""Which character encoding the bytes of one ISO 2709 record are in.

The leader (MARC 21 leader/09) and UNIMARC 100$a/26-29 say what a record claims; the bytes say what
it is. Files exported by CIS library systems often carry Windows-1251 or KOI8-R with a blank
leader/09, and MARC-8 records are sometimes labelled UTF-8: the bytes win, with a warning.
"""

from __future__ import annotations

import math
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
        if file_page in CYRILLIC_PAGES:
            return Guess(file_page, _reads_better(data, file_page))
        return Guess(file_page)
    if not _ansel_like(data):
        own = guess_legacy(data)
        if own != MARC8:
            return Guess(MARC8, f"its bytes look like {own}, but the file's code page is MARC-8; read as MARC-8")
    return Guess(MARC8)


# How often each letter is written in Russian text (per cent, case-insensitive; the Russian National
# Corpus's counts), with Uzbek Cyrillic's own letters at a middling rate: a reading of a record's
# bytes whose letters are the common ones is likelier than one whose letters are rare
_LETTERS = dict(zip("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё", (
    10.98, 8.48, 8.00, 7.37, 6.70, 6.32, 5.47, 4.75, 4.53, 4.34, 3.49, 3.20, 2.98, 2.80, 2.62, 2.00, 1.90,
    1.74, 1.69, 1.64, 1.59, 1.45, 1.21, 0.97, 0.94, 0.72, 0.64, 0.49, 0.36, 0.33, 0.27, 0.04, 0.013), strict=True),
    ў=1.0, қ=1.0, ғ=0.5, ҳ=0.7)  # fmt: skip
_PUNCTUATION = frozenset("«»№–—“”„‘’…•°§©\xa0·")
_OTHER_LETTER, _SYMBOL, _CASE_BREAK = math.log(1e-5), math.log(1e-6), math.log(1e-3)
RECORD_MARGIN = 10.0  # natural log: a reading e**10 (22,000) times likelier than the file's is a contradiction
TYPICAL = -3.4  # mean log-likelihood of a letter of Russian or Uzbek text read right is about -3.0
_LETTERS_WEIGHED = 256  # a record's first 8-bit characters, enough to tell its code page
_ASCII = bytes(range(0x80))
_SNIPPET = 60  # characters of a record's text quoted in a warning


def _page_tables(page: str) -> tuple[list[float], bytes]:
    """For one code page: the log-likelihood of each byte as the character it reads as (0 for ASCII), and a
    ``bytes.translate`` table marking lowercase Cyrillic letters ``l`` and uppercase ``U`` (in the wrong
    code page, a word of mixed case reads as ``иСТОРИЯ``: a ``lU``)."""
    scores, cases = [0.0] * 256, bytearray(b" " * 256)
    for byte in range(0x80, 0x100):
        char = bytes([byte]).decode(page, "replace")
        folded = char.lower()
        if folded in _LETTERS:
            scores[byte] = math.log(_LETTERS[folded] / 100)
            cases[byte] = ord("l") if char.islower() else ord("U")
        elif char in _PUNCTUATION:
            scores[byte] = math.log(0.005)
        else:
            scores[byte] = _OTHER_LETTER if char.isalpha() else _SYMBOL
    return scores, bytes(cases)


_TABLES = {page: _page_tables(page) for page in CYRILLIC_PAGES}


def letter_score(data: bytes, page: str) -> float:
    """How likely ``data`` read in ``page`` is Russian or Uzbek text, by its letters and their case (a
    log-likelihood; its first ``_LETTERS_WEIGHED`` 8-bit characters)."""
    scores, cases = _TABLES[page]
    high = data.translate(None, _ASCII)[:_LETTERS_WEIGHED]
    breaks = data[: _LETTERS_WEIGHED * 4].translate(cases).count(b"lU")
    return sum(map(scores.__getitem__, high)) + _CASE_BREAK * breaks


def _reads_better(data: bytes, file_page: str) -> str | None:
    """A warning when a record's text reads far better in another Cyrillic code page than the file's.

    A file's code page is decided from all its records, since one short heading cannot tell them
    apart; but a record that came from elsewhere (a KOI8-R record in a Windows-1251 file) reads as
    nonsense in the file's page.  It is still read in the file's page, and the warning names the
    page it reads as and quotes both readings, so that the cataloguer can see it and import it again.
    Letter frequencies tell the readings apart (a wrong code page swaps common letters for rare
    ones); a record whose letters are as common as text's is passed at the cost of one sum.
    """
    high = data.translate(None, _ASCII)[:_LETTERS_WEIGHED]
    scores = _TABLES[file_page][0]
    if not high or sum(map(scores.__getitem__, high)) >= TYPICAL * len(high):
        return None
    readings = {page: letter_score(data, page) for page in CYRILLIC_PAGES}
    best = max(readings, key=readings.__getitem__)
    if best == file_page or readings[best] - readings[file_page] < RECORD_MARGIN:
        return None
    sample = _sample(data)
    return (f"its text reads as {best} (\u201c{sample.decode(best)}\u201d), not as {file_page}, the code page "
            f"of the file (\u201c{sample.decode(file_page)}\u201d); read as {file_page}: to keep it as {best}, "
            f"import it alone with --encoding {best}")  # fmt: skip


def _sample(data: bytes) -> bytes:
    """The piece of a record's text (a subfield) with the most 8-bit characters, at most ``_SNIPPET`` long."""
    parts = re.split(rb"([\x1d\x1e\x1f])", data)
    # each piece after a subfield mark begins with its code
    pieces = [part[1:] if mark == b"\x1f" else part for mark, part in zip([b"", *parts[1::2]], parts[::2], strict=True)]
    best = max(pieces, key=lambda piece: sum(1 for byte in piece if byte >= 0x80))
    return best[:_SNIPPET].strip()


# ANSEL (ANSI/NISO Z39.47), MARC-8's default G1 set: the bytes it defines; E0-FE are combining marks
_ANSEL = frozenset([0x88, 0x89, 0x8D, 0x8E, *range(0xA1, 0xAF), *range(0xB0, 0xBB), 0xBC, 0xBD, *range(0xC0, 0xC9),
                    *range(0xE0, 0xFC), 0xFE])  # fmt: skip
_MARKS = re.compile(rb"\x1f.?", re.DOTALL)
SAMPLE_BYTES = 4 << 20  # enough text to tell code pages apart; a file's first 4 MB of 8-bit records
# below this likeness to a language (charset_normalizer's coherence) in its best reading, a file's text
# is too little to decide from: two or three short titles read as well in any page (ISO 8859-5 won)
TOO_LITTLE = 0.1


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
    the evidence is even, or too little for any reading to be like a language, Windows-1251 wins:
    it is what the region's library systems export.
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
    if best.coherence < TOO_LITTLE:
        letters = sum(1 for byte in data if byte >= 0x80)
        return FileChoice(CP1251, f"{count} records in 8-bit code pages hold too little text to tell their code "
                                  f"page ({letters} characters, in which no reading is like any language): read "
                                  "as Windows-1251, what the region's library systems export")  # fmt: skip
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
