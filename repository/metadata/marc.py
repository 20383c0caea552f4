"""MARC records: our small value model, ISO 2709 reading and writing, MARC-8, the mnemonic text form.

This is the only module that imports pymarc, for its MARC-8 tables and decoder.  The ISO 2709
structure we read ourselves, leniently: the stream is split so that one broken record (a wrong
length, filler between records, a missing terminator) never costs its neighbours, a directory whose
lengths are wrong is read by its field terminators, and the bytes are decoded with the encoding they
are really in (see ``encoding``).  ``tests/records/test_marc_structure.py`` checks that we read
every record pymarc reads the same way pymarc does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import BinaryIO, NamedTuple

from pymarc import marc8_mapping
from pymarc.marc8 import MARC8ToUnicode

from repository.metadata import encoding as enc
from repository.metadata.xmltext import ILLEGAL_BUT_SUBFIELD_MARK, clean, forbidden_chars

FIELD_END = b"\x1e"
RECORD_END = b"\x1d"
SUBFIELD_MARK = b"\x1f"
MAX_RECORD = 99_999  # ISO 2709: five digits of record length
MAX_FIELD = 9_999  # ISO 2709 (MARC 21 directory): four digits of field length
_SEARCH_LIMIT = 1 << 20  # how far to look for a record terminator before giving up on a record
_JUNK = b" \t\r\n\x00\x1a\x1d"  # filler seen between records: blanks, NULs, DOS EOF, stray terminators

NOT_CATALOGUED = {
    "z": "authority record",
    "x": "authority record",
    "y": "authority record",
    "u": "holdings record",
    "v": "holdings record",
    "w": "classification record",
}

VALID_TAG = re.compile(r"^[0-9A-Za-z]{3}$")
# MARC21slim.xsd: an indicator is [\da-z ], a subfield code [\dA-Za-z!"#$%&'()*+,-./:;<=>?{}_^`~\[\]\\]
INDICATOR_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz ")
CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"#$%&'()*+,-./:;<=>?{}_^`~[]\\")


class ControlField(NamedTuple):
    """A control field (00X): a tag and its data."""

    tag: str
    data: str


class DataField(NamedTuple):
    """A data field: tag, two indicators and ``(code, value)`` subfields."""

    tag: str
    ind1: str
    ind2: str
    subfields: tuple[tuple[str, str], ...]

    def get(self, code: str) -> str | None:
        """The first value of subfield ``code``."""
        for c, v in self.subfields:
            if c == code:
                return v
        return None

    def values(self, codes: str | None = None) -> list[str]:
        """Values of the subfields whose code is in ``codes`` (all subfields when None)."""
        return [v for c, v in self.subfields if codes is None or c in codes]


Field = ControlField | DataField


@dataclass(slots=True)
class MarcRecord:
    """A MARC record decoded to Unicode (NFC): the leader and its fields in order.

    Treat ``fields`` as read-only once lookups have started: an index by tag is built on first use.
    """

    leader: str
    fields: list[Field] = field(default_factory=list)
    _by_tag: dict[str, list[tuple[int, Field]]] | None = field(default=None, repr=False, compare=False)

    def _index(self) -> dict[str, list[tuple[int, Field]]]:
        if self._by_tag is None:
            index: dict[str, list[tuple[int, Field]]] = {}
            for pos, f in enumerate(self.fields):
                index.setdefault(f.tag, []).append((pos, f))
            self._by_tag = index
        return self._by_tag

    def control(self, tag: str) -> str | None:
        """The data of the first control field ``tag``."""
        for _, f in self._index().get(tag, ()):
            if isinstance(f, ControlField):
                return f.data
        return None

    def datafields(self, *tags: str) -> list[DataField]:
        """Data fields whose tag is one of ``tags`` (``5XX`` stands for 500-599), in record order."""
        index = self._index()
        hits: list[tuple[int, Field]] = []
        for pattern in tags:
            if pattern.endswith("X"):
                stem = pattern.rstrip("X")
                for tag, entries in index.items():
                    if tag.startswith(stem):
                        hits.extend(entries)
            else:
                hits.extend(index.get(pattern, ()))
        if len(tags) > 1 or tags[0].endswith("X"):
            hits.sort(key=lambda hit: hit[0])
        return [f for _, f in hits if isinstance(f, DataField)]

    def first(self, tag: str, code: str) -> str | None:
        """The first subfield ``code`` of the first field ``tag`` that has one."""
        for f in self.datafields(tag):
            value = f.get(code)
            if value is not None:
                return value
        return None

    def has(self, tag: str) -> bool:
        """True when the record has a field ``tag``."""
        return tag in self._index()


# ---------------------------------------------------------------------------------------------
# Reading ISO 2709


@dataclass(slots=True)
class RawRecord:
    """The bytes of one record as found in a file, with where they were found."""

    position: int  # 1-based
    offset: int  # byte offset in the file
    data: bytes
    warnings: list[str] = field(default_factory=list)


class MarcError(ValueError):
    """A record that cannot be read: the reason is the message."""


def split_iso2709(stream: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[RawRecord]:
    """Cut an ISO 2709 stream into records, in bounded memory, surviving broken lengths and filler.

    The leader's length is trusted when the byte it points at is the record terminator; otherwise
    the record ends at the next terminator (with a warning), and a record without any terminator
    ends where its leader says, or where the search limit does.
    """
    buf = b""
    pos = 0  # where the next record starts in buf; buf is only cut when it is refilled
    base = 0  # file offset of buf[0]
    position = 0
    eof = False

    def fill(need: int) -> None:
        """Have at least ``need`` bytes after ``pos`` in ``buf`` (unless the stream ends)."""
        nonlocal buf, pos, base, eof
        if len(buf) - pos >= need or eof:
            return
        buf, base, pos = buf[pos:], base + pos, 0
        while not eof and len(buf) < need:
            more = stream.read(max(chunk_size, need - len(buf)))
            if not more:
                eof = True
            buf += more

    while True:
        fill(64)
        while pos < len(buf) and buf[pos] in _JUNK:
            pos += 1
            if pos == len(buf):
                fill(64)
        if pos >= len(buf):
            return
        position += 1
        warnings: list[str] = []
        head = buf[pos : pos + 5]
        claimed = int(head) if head.isdigit() else 0
        end = -1
        if claimed >= 24:
            fill(claimed)
            if buf[pos + claimed - 1 : pos + claimed] == RECORD_END:
                end = claimed
        if end < 0:
            limit = _SEARCH_LIMIT
            found = buf.find(RECORD_END, pos, pos + limit)
            while found < 0 and not eof and len(buf) - pos < limit:
                fill(len(buf) - pos + chunk_size)
                found = buf.find(RECORD_END, pos, pos + limit)
            if found >= 0:
                end = found - pos + 1
                if claimed:
                    warnings.append(f"leader gives length {claimed} but the record has {end} bytes")
            else:
                available = len(buf) - pos
                end = claimed if 24 <= claimed <= available else min(available, limit)
                warnings.append("no end-of-record marker")
        yield RawRecord(position, base + pos, buf[pos : pos + end], warnings)
        pos += end


def oversize(raw: bytes) -> str | None:
    """Why a record found in an ISO 2709 file breaks the format's own maximums, or None.

    Five digits of record length and four of field length (ISO 2709, MARC 21's directory): a
    longer record or field was written by a broken exporter, and no system could read it back
    from ISO 2709.  The splitter and the careful reader find such records by their terminators.
    """
    if len(raw) > MAX_RECORD:
        return f"record is {len(raw):,} bytes; ISO 2709 allows {MAX_RECORD:,} (five digits of record length){_AS_XML}"
    if len(raw) <= MAX_FIELD:
        return None  # no field can be longer than its record
    base = raw[12:17]
    start = int(base) if base.isdigit() and 24 < int(base) <= len(raw) else raw.find(FIELD_END, 24) + 1
    bodies = raw[start:].split(FIELD_END)
    for index, body in enumerate(bodies[:-1]):
        if len(body) + 1 > MAX_FIELD:
            entry = raw[24 + 12 * index : 27 + 12 * index]
            tag = entry.decode("ascii", "replace") if start > 24 + 12 * index + 3 else "?"
            return (f"field {tag} is {len(body) + 1:,} bytes; ISO 2709 allows {MAX_FIELD:,} (four digits of field "
                    f"length){_AS_XML}")  # fmt: skip
    return None


_AS_XML = "; such a record can be imported as MARCXML"


@dataclass(slots=True)
class Decoded:
    """A record read from ISO 2709: the record, its flavour, the encoding used and warnings."""

    record: MarcRecord
    encoding: str
    warnings: list[str]
    regular: bool = False  # tags, indicators and subfield codes are known to be valid


_CONTROL_TAGS = frozenset(f"00{d}" for d in "123456789")


def read_structure(raw: bytes, warnings: list[str]) -> tuple[str, list[tuple[str, bytes]]]:
    """Leader and ``(tag, body)`` of each field (body without its terminator); raise ``MarcError``.

    Follows the directory; when the directory's lengths disagree with the field terminators, the
    fields are read by their terminators instead (with a warning), as long as their number agrees.
    """
    if len(raw) < 25:
        raise MarcError(f"truncated record: only {len(raw)} bytes")
    head = raw[:24]
    if not head[:5].isdigit() or not head[12:17].isdigit():
        raise MarcError(f"invalid leader {head!r}: record length and base address must be digits")
    if not head.isascii():
        head = bytes(b if b < 0x80 else 0x20 for b in head)
        warnings.append("non-ASCII bytes in the leader replaced by blanks")
    leader = head.decode("ascii")
    base = int(head[12:17])
    if 25 <= base <= len(raw) and raw[base - 1 : base] != FIELD_END and (base - 25) % 12 == 0:
        warnings.append("the directory does not end with a field terminator")
    elif not (25 <= base <= len(raw)) or raw[base - 1 : base] != FIELD_END:
        found = raw.find(FIELD_END, 24)
        if found < 0:
            raise MarcError("no directory terminator: not a readable record")
        if base:
            warnings.append(f"leader gives base address {base} but the directory ends at {found + 1}")
        base = found + 1
    directory = raw[24 : base - 1]
    if len(directory) % 12:
        raise MarcError(f"invalid directory: {len(directory)} bytes is not a whole number of 12-byte entries")
    if not directory.isascii():
        raise MarcError("invalid directory: non-ASCII bytes")
    data = raw[base:]
    entries = []
    for pos in range(0, len(directory), 12):
        entry = directory[pos : pos + 12]
        if not entry[3:12].isdigit():
            raise MarcError(f"invalid directory entry {pos // 12 + 1}: {entry.decode('ascii')!r}")
        entries.append((entry[:3].decode("ascii"), int(entry[3:7]), int(entry[7:12])))
    fields = []
    consistent = True
    for tag, length, start in entries:
        body = data[start : start + length]
        if length < 1 or body[-1:] != FIELD_END:
            consistent = False
            break
        fields.append((tag, body[:-1]))
    if not consistent:
        bodies = data.rstrip(RECORD_END).split(FIELD_END)
        if bodies and bodies[-1] == b"":
            bodies.pop()
        if len(bodies) != len(entries):
            raise MarcError(
                f"invalid directory: {len(entries)} entries but {len(bodies)} fields; lengths or offsets are wrong"
            )
        warnings.append("directory lengths or offsets are wrong; fields read by their terminators")
        fields = [(tag, body) for (tag, _, _), body in zip(entries, bodies, strict=True)]
    if not fields:
        raise MarcError("no fields found")
    return leader, fields


def _fold_code(piece: bytes) -> tuple[str, int]:
    """A non-ASCII subfield code folded to its ASCII letter (``â`` -> ``a``, as pymarc does), and its size."""
    try:
        char = piece.decode("utf-8")[0]
    except UnicodeDecodeError:
        char = piece[:1].decode("latin-1")
    size = len(char.encode("utf-8")) if piece.startswith(char.encode("utf-8")) else 1
    folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    return (folded[0] if folded and folded[0] in CODE_CHARS else "_"), size


def parse_iso2709(raw: bytes, encoding: str = "auto", file_page: str | None = None) -> Decoded:
    """Parse one record's bytes and decode them to Unicode; raise ``MarcError`` when unreadable.

    ``file_page`` is the 8-bit code page decided for the record's file (``encoding.choose_for_file``).
    """
    return _parse_regular(raw, encoding) or _parse_careful(raw, encoding, file_page)


_DIRECTORY_ENTRY = re.compile(r"([0-9A-Za-z]{3})([0-9]{4})([0-9]{5})")
_VALID_INDICATORS = frozenset(a + b for a in INDICATOR_CHARS for b in INDICATOR_CHARS)
# what sends a decoded record down the careful path: a character XML 1.0 forbids (sparing the
# field and subfield marks), or a subfield code MARCXML does not allow (two searches: one pattern
# with both would be tried at every character)
_IRREGULAR_CHAR = forbidden_chars("\x1e\x1f")
_IRREGULAR_CODE = re.compile(f"\x1f[^{''.join(re.escape(c) for c in sorted(CODE_CHARS))}\x1e\x1f]")
_new_field = tuple.__new__  # builds a DataField/ControlField without a call through its Python __new__


def _parse_regular(raw: bytes, encoding: str) -> Decoded | None:
    """Read a regular record in a few whole-record steps; None sends it down the careful path.

    Regular: a valid leader and directory, fields laid end to end exactly as the directory says,
    UTF-8 bytes, no character XML forbids, valid indicators and subfield codes.  Most records are;
    for them this gives what ``_parse_careful`` gives (``tests/records/test_marc_structure.py``
    checks that on every real file), in about two thirds of the time.
    """
    if encoding not in ("auto", enc.UTF8) or len(raw) < 25 or raw[-1] != 0x1D or not raw[:24].isascii():
        return None
    leader = raw[:24].decode("ascii")
    if not (leader[:5].isdigit() and leader[12:17].isdigit()):
        return None
    base = int(leader[12:17])
    if not 25 <= base <= len(raw) or raw[base - 1] != 0x1E or not raw[24:base].isascii():
        return None
    directory = raw[24 : base - 1].decode("ascii")
    entries = _DIRECTORY_ENTRY.findall(directory)
    if not entries or len(entries) * 12 != len(directory):
        return None  # n non-overlapping 12-character matches in 12n characters: they tile it
    data = raw[base:-1]
    tags, lengths, starts = zip(*entries, strict=True)
    lengths = list(map(int, lengths))
    bodies = data.split(FIELD_END)
    if bodies.pop() or [n - 1 for n in lengths] != list(map(len, bodies)):
        return None  # a field terminator missing, or one inside a field
    if list(map(int, starts)) != [0, *accumulate(lengths)][:-1]:
        return None  # fields out of order, or gaps between them
    try:
        text = data.decode(enc.UTF8)
    except UnicodeDecodeError:
        return None
    warnings: list[str] = []
    if encoding == "auto" and leader[9] != "a":  # valid UTF-8 under leader/09 "a" is read as UTF-8
        guess = enc.detect(data, leader[9], _unimarc_100a(tags, bodies))
        if guess.encoding != enc.UTF8:
            return None
        if guess.warning:
            warnings.append(guess.warning)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)  # NFC never composes across a field terminator
    if _IRREGULAR_CHAR.search(text) or _IRREGULAR_CODE.search(text):
        return None
    fields: list[Field] = []
    texts = text.split("\x1e")
    texts.pop()  # after the last field terminator
    for tag, body in zip(tags, texts, strict=True):
        if tag in _CONTROL_TAGS:
            if "\x1f" in body:
                return None
            fields.append(_new_field(ControlField, (tag, body)))
            continue
        if body[:2] not in _VALID_INDICATORS or body[2:3] not in ("\x1f", ""):
            return None
        subfields = tuple([(p[0], p[1:]) for p in body[3:].split("\x1f") if p])
        fields.append(_new_field(DataField, (tag, body[0], body[1], subfields)))
    return Decoded(MarcRecord(leader, fields), enc.UTF8, warnings, regular=True)


def _unimarc_100a(tags: Sequence[str], bodies: Sequence[bytes]) -> str | None:
    """UNIMARC 100$a (which names the character sets) when the record looks UNIMARC (no 245)."""
    if "245" in tags or "100" not in tags:
        return None
    body = bodies[tags.index("100")]
    return body.partition(SUBFIELD_MARK + b"a")[2].split(SUBFIELD_MARK)[0].decode("latin-1")


def _parse_careful(raw: bytes, encoding: str, file_page: str | None = None) -> Decoded:
    """Read any record, field by field, repairing and saying what was repaired; raise ``MarcError``."""
    warnings: list[str] = []
    leader, raw_fields = read_structure(raw, warnings)
    if encoding == "auto":
        tags, bodies = zip(*raw_fields, strict=True)
        guess = enc.detect(FIELD_END.join(bodies), leader[9], _unimarc_100a(tags, bodies), file_page)
        encoding = guess.encoding
        if guess.warning:
            warnings.append(guess.warning)
    decode = _decoder(encoding, warnings)
    fields: list[Field] = []
    bad_indicators = bad_codes = False
    for tag, body in raw_fields:
        if tag in _CONTROL_TAGS:
            fields.append(ControlField(tag, decode(body)))
            continue
        head, _, rest = body.partition(SUBFIELD_MARK)
        ind = head.decode("ascii", "replace") if head.isascii() else "  "
        if len(ind) != 2 or not head.isascii():
            bad_indicators = True
            ind = (ind + "  ")[:2]
        fast = _whole_field(rest, encoding, warnings)
        parts = fast if fast is not None else []
        for piece in rest.split(SUBFIELD_MARK) if fast is None else ():
            if not piece:
                continue
            if piece[0] < 0x80:
                parts.append((chr(piece[0]), decode(piece[1:])))
            else:
                bad_codes = True
                code, size = _fold_code(piece)
                parts.append((code, decode(piece[size:])))
        fields.append(DataField(tag, ind[0], ind[1], tuple(parts)))
    if bad_indicators:
        warnings.append("missing, extra or non-ASCII indicators read as blanks")
    if bad_codes:
        warnings.append("non-ASCII subfield codes folded to ASCII letters")
    return Decoded(MarcRecord(leader, fields), encoding, warnings)


def _whole_field(rest: bytes, encoding: str, warnings: list[str]) -> list[tuple[str, str]] | None:
    """Decode a data field's subfields in one go (the fast path); None when it needs the careful one.

    The careful path decodes subfield by subfield: MARC-8 (whose escapes pymarc resets per
    subfield), bytes that do not decode, and non-ASCII subfield codes.
    """
    if encoding == enc.MARC8:
        return None
    try:
        text = rest.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if not text.isprintable():
        text, dropped = ILLEGAL_BUT_SUBFIELD_MARK.subn("", text)
        if dropped and "characters not allowed in XML 1.0 removed" not in warnings:
            warnings.append("characters not allowed in XML 1.0 removed")
    parts = []
    for piece in text.split("\x1f"):
        if piece:
            if not piece[0].isascii():
                return None
            parts.append((piece[0], piece[1:]))
    return parts


def _decoder(encoding: str, warnings: list[str]) -> Callable[[bytes], str]:
    """A bytes -> clean str function for ``encoding`` that records problems in ``warnings`` once each."""
    seen: set[str] = set()

    def note(message: str) -> None:
        if message not in seen:
            seen.add(message)
            warnings.append(message)

    def finish(text: str) -> str:
        text, dropped = clean(text)
        if dropped:
            note("characters not allowed in XML 1.0 removed")
        return text

    if encoding == enc.MARC8:

        def decode_marc8(value: bytes) -> str:
            try:
                return finish(MARC8ToUnicode(quiet=True).translate(value))
            except (IndexError, TypeError, KeyError, ValueError):
                note("invalid MARC-8 sequence; unreadable bytes replaced by U+FFFD")
                return finish(value.decode("ascii", "replace"))

        return decode_marc8

    codec = encoding if encoding in enc.ENCODINGS else enc.UTF8

    def decode_codec(value: bytes) -> str:
        try:
            return finish(value.decode(codec))
        except UnicodeDecodeError:
            note(f"bytes that are not valid {codec} replaced by U+FFFD")
            return finish(value.decode(codec, "replace"))

    return decode_codec


# ---------------------------------------------------------------------------------------------
# Writing


class TooLongForISO2709(ValueError):
    """A record ISO 2709 cannot hold (a field over 9,999 bytes or a record over 99,999)."""


UNIMARC_MAP = "450 "  # UNIMARC record label 20-23: the directory map, its 23rd position undefined (blank)


def unimarc_label(leader: str) -> str:
    """A leader as UNIMARC writes its record label: 09 undefined (blank), 10-11 ``22``, 20-23 ``450 ``.

    UNIMARC names the character set in 100 $a/26-29, not in the label: MARC 21's leader/09 ``a``
    means nothing there.
    """
    leader = (leader + " " * 24)[:24]
    return f"{leader[:9]} 22{leader[12:20]}{UNIMARC_MAP}"


def to_iso2709(record: MarcRecord, encoding: str = enc.UTF8, flavour: str = "marc21") -> bytes:
    """The record as ISO 2709 in ``encoding`` (MARC 21: UTF-8 sets leader/09 ``a``, others blank;
    UNIMARC: the record label of ``unimarc_label``).

    Raises ``TooLongForISO2709`` rather than truncate; ``UnicodeEncodeError``/``ValueError`` when a
    character has no form in ``encoding``.
    """
    encode = encode_marc8 if encoding == enc.MARC8 else (lambda text: text.encode(encoding))
    directory, data = bytearray(), bytearray()
    for f in record.fields:
        if isinstance(f, ControlField):
            body = encode(f.data) + FIELD_END
        else:
            body = (
                (f.ind1 + f.ind2).encode("ascii")
                + b"".join(SUBFIELD_MARK + code.encode("ascii") + encode(value) for code, value in f.subfields)
                + FIELD_END
            )
        if len(body) > MAX_FIELD:
            raise TooLongForISO2709(f"field {f.tag} is {len(body)} bytes; ISO 2709 allows {MAX_FIELD}")
        directory += f"{f.tag}{len(body):04d}{len(data):05d}".encode("ascii")
        data += body
    base = 24 + len(directory) + 1
    length = base + len(data) + 1
    if length > MAX_RECORD:
        raise TooLongForISO2709(f"record is {length} bytes; ISO 2709 allows {MAX_RECORD}")
    leader = (record.leader + " " * 24)[:24]
    leader = f"{length:05d}{leader[5:9]}{'a' if encoding == enc.UTF8 else ' '}22{base:05d}{leader[17:20]}4500"
    if flavour == "unimarc":
        leader = unimarc_label(leader)
    return leader.encode("ascii") + bytes(directory) + FIELD_END + bytes(data) + RECORD_END


def to_text(record: MarcRecord) -> str:
    """The readable mnemonic (MARCMaker-style) form: ``=245  10$aTitle``."""
    lines = [f"=LDR  {record.leader}"]
    for f in record.fields:
        if isinstance(f, ControlField):
            lines.append(f"={f.tag}  " + f.data.replace(" ", "\\"))
        else:
            ind = (f.ind1 or " ").replace(" ", "\\") + (f.ind2 or " ").replace(" ", "\\")
            lines.append(f"={f.tag}  {ind}" + "".join(f"${c}{v}" for c, v in f.subfields))
    return "\n".join(lines)


def to_marc_in_json(record: MarcRecord) -> dict:
    """The record in MARC-in-JSON (Ross Singer's format, as pymarc's ``as_dict``): leader and fields in order."""
    fields: list[dict] = []
    for f in record.fields:
        if isinstance(f, ControlField):
            fields.append({f.tag: f.data})
        else:
            subfields = [{c: v} for c, v in f.subfields]
            fields.append({f.tag: {"ind1": f.ind1 or " ", "ind2": f.ind2 or " ", "subfields": subfields}})
    return {"leader": record.leader, "fields": fields}


# ---------------------------------------------------------------------------------------------
# MARC-8 encoding (for legacy exports and the sample collection's MARC-8 file)

_MARC8_G0: dict[str, tuple[int, int]] = {}  # char -> (charset, byte)
_MARC8_COMBINING: dict[str, int] = {}  # combining char -> ANSEL byte


def _build_marc8_tables() -> None:
    for byte, (code, combining) in marc8_mapping.CODESETS[0x45].items():
        if combining:
            _MARC8_COMBINING.setdefault(chr(code), byte)
        else:
            _MARC8_G0.setdefault(chr(code), (0x45, byte))
    for charset in (0x42, 0x4E):  # basic Latin, basic Cyrillic (both G0 sets)
        for byte, (code, combining) in marc8_mapping.CODESETS[charset].items():
            if not combining:
                _MARC8_G0.setdefault(chr(code), (charset, byte))


def encode_marc8(text: str) -> bytes:
    """Encode ``text`` in MARC-8 (Latin with ANSEL diacritics, basic Cyrillic); raise ValueError otherwise."""
    if not _MARC8_G0:
        _build_marc8_tables()
    out = bytearray()
    g0 = 0x42
    for base, marks in _clusters(unicodedata.normalize("NFD", text)):
        if ord(base) < 0x80:
            charset, byte = 0x42, ord(base)
        elif base in _MARC8_G0:
            charset, byte = _MARC8_G0[base]
        else:
            raise ValueError(f"{base!r} has no MARC-8 form")
        for mark in marks:
            if mark not in _MARC8_COMBINING:
                raise ValueError(f"{mark!r} has no MARC-8 form")
            out.append(_MARC8_COMBINING[mark])  # MARC-8: combining marks precede their base
        if charset == 0x45:
            out.append(byte)  # ANSEL is the default G1 set: no escape needed
            continue
        if charset != g0:
            out += b"\x1b(" + bytes([charset])
            g0 = charset
        out.append(byte)
    if g0 != 0x42:
        out += b"\x1b(B"
    return bytes(out)


def _clusters(text: str) -> Iterator[tuple[str, list[str]]]:
    base: str | None = None
    marks: list[str] = []
    for ch in text:
        if unicodedata.combining(ch) and base is not None:
            marks.append(ch)
            continue
        if base is not None:
            yield base, marks
        base, marks = ch, []
    if base is not None:
        yield base, marks
