"""MARC records: our small value model, ISO 2709 reading and writing, MARC-8, the mnemonic text form.

This is the only module that imports pymarc.  pymarc parses each ISO 2709 record's structure and
decodes MARC-8; we split the stream ourselves so that one broken record (a wrong length, filler
between records, a missing terminator) never costs its neighbours, and we decode the bytes with
the encoding the record's bytes really are in (see ``encoding``).
"""

from __future__ import annotations

import logging
import re
import warnings as pywarnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple

import pymarc
from pymarc import marc8_mapping
from pymarc.marc8 import MARC8ToUnicode

from repository.records import encoding as enc
from repository.records.xmltext import clean

FIELD_END = b"\x1e"
RECORD_END = b"\x1d"
SUBFIELD_MARK = b"\x1f"
MAX_RECORD = 99_999  # ISO 2709: five digits of record length
MAX_FIELD = 9_999  # ISO 2709 (MARC 21 directory): four digits of field length
_SEARCH_LIMIT = 1 << 20  # how far to look for a record terminator before giving up on a record
_JUNK = b" \t\r\n\x00\x1a\x1d"  # filler seen between records: blanks, NULs, DOS EOF, stray terminators

# pymarc logs every odd indicator and warns of odd subfield codes; we report per record instead.
logging.getLogger("pymarc").setLevel(logging.ERROR)

NOT_CATALOGUED = {
    "z": "authority record",
    "x": "authority record",
    "y": "authority record",
    "u": "holdings record",
    "v": "holdings record",
    "w": "classification record",
}


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
    """A MARC record decoded to Unicode (NFC): the leader and its fields in order."""

    leader: str
    fields: list[Field] = field(default_factory=list)

    def control(self, tag: str) -> str | None:
        """The data of the first control field ``tag``."""
        for f in self.fields:
            if f.tag == tag and isinstance(f, ControlField):
                return f.data
        return None

    def datafields(self, *tags: str) -> list[DataField]:
        """Data fields whose tag is one of ``tags`` (tags may end in ``X``: ``6XX``)."""
        out = []
        for f in self.fields:
            if isinstance(f, DataField) and any(_tag_matches(f.tag, t) for t in tags):
                out.append(f)
        return out

    def first(self, tag: str, code: str) -> str | None:
        """The first subfield ``code`` of the first field ``tag`` that has one."""
        for f in self.datafields(tag):
            value = f.get(code)
            if value is not None:
                return value
        return None

    def has(self, tag: str) -> bool:
        """True when the record has a field ``tag``."""
        return any(f.tag == tag for f in self.fields)


def _tag_matches(tag: str, pattern: str) -> bool:
    if "X" not in pattern:
        return tag == pattern
    return len(tag) == 3 and all(p == "X" or p == t for p, t in zip(pattern, tag, strict=True))


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
    base = 0  # file offset of buf[0]
    position = 0
    eof = False

    def fill(need: int) -> None:
        nonlocal buf, eof
        while not eof and len(buf) < need:
            more = stream.read(max(chunk_size, need - len(buf)))
            if not more:
                eof = True
            buf += more

    while True:
        fill(64)
        skip = len(buf) - len(buf.lstrip(_JUNK))
        while skip == len(buf) and not eof:
            base += skip
            buf = b""
            fill(64)
            skip = len(buf) - len(buf.lstrip(_JUNK))
        buf, base = buf[skip:], base + skip
        if not buf:
            return
        position += 1
        warnings: list[str] = []
        head = buf[:5]
        claimed = int(head) if head.isdigit() else 0
        end = -1
        if claimed >= 24:
            fill(claimed)
            if buf[claimed - 1 : claimed] == RECORD_END:
                end = claimed
        if end < 0:
            limit = _SEARCH_LIMIT
            found = buf.find(RECORD_END, 0, limit)
            while found < 0 and not eof and len(buf) < limit:
                fill(len(buf) + chunk_size)
                found = buf.find(RECORD_END, 0, limit)
            if found >= 0:
                end = found + 1
                if claimed:
                    warnings.append(f"leader gives length {claimed} but the record has {end} bytes")
            else:
                end = claimed if 24 <= claimed <= len(buf) else min(len(buf), limit)
                warnings.append("no end-of-record marker")
        yield RawRecord(position, base, buf[:end], warnings)
        buf, base = buf[end:], base + end


@dataclass(slots=True)
class Decoded:
    """A record read from ISO 2709: the record, its flavour, the encoding used and warnings."""

    record: MarcRecord
    encoding: str
    warnings: list[str]


def parse_iso2709(raw: bytes, encoding: str = "auto") -> Decoded:
    """Parse one record's bytes and decode them to Unicode; raise ``MarcError`` when unreadable."""
    warnings: list[str] = []
    if len(raw) < 25:
        raise MarcError(f"truncated record: only {len(raw)} bytes")
    leader_bytes = raw[:24]
    if not leader_bytes[:5].isdigit() or not leader_bytes[12:17].isdigit():
        raise MarcError(f"invalid leader {leader_bytes!r}: record length and base address must be digits")
    if not leader_bytes.isascii():
        leader_bytes = bytes(b if b < 0x80 else 0x20 for b in leader_bytes)
        warnings.append("non-ASCII bytes in the leader replaced by blanks")
    actual = str(len(raw)).zfill(5).encode() if len(raw) <= MAX_RECORD else b"99999"
    if leader_bytes[:5] != actual:
        leader_bytes = actual + leader_bytes[5:]
    raw = leader_bytes + raw[24:]
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            parsed = pymarc.Record(data=raw, to_unicode=False)
    except UnicodeDecodeError:
        raise MarcError("non-ASCII bytes in the directory or the indicators") from None
    except (pymarc.exceptions.PymarcException, ValueError, IndexError) as exc:
        raise MarcError(_describe(exc)) from None
    leader = leader_bytes.decode("ascii")
    field_bytes = b"".join(_raw_values(parsed))
    if encoding == "auto":
        hint = None
        for f in parsed.fields:
            if f.tag == "100" and not f.is_control_field() and not parsed.get("245"):
                hint = next((v.decode("latin-1") for c, v in f.subfields if c == "a"), None)
                break
        guess = enc.detect(field_bytes, leader[9], hint)
        encoding = guess.encoding
        if guess.warning:
            warnings.append(guess.warning)
    decode = _decoder(encoding, warnings)
    fields: list[Field] = []
    for f in parsed.fields:
        if f.is_control_field():
            fields.append(ControlField(f.tag, decode(f.data)))
        else:
            ind1, ind2 = f.indicators
            fields.append(DataField(f.tag, ind1, ind2, tuple((c, decode(v)) for c, v in f.subfields)))
    return Decoded(MarcRecord(leader, fields), encoding, warnings)


def _raw_values(parsed: pymarc.Record) -> Iterator[bytes]:
    for f in parsed.fields:
        if f.is_control_field():
            yield f.data
        else:
            for _code, value in f.subfields:
                yield value


def _describe(exc: Exception) -> str:
    names = {
        "RecordLengthInvalid": "invalid record length in the leader",
        "RecordLeaderInvalid": "invalid leader",
        "RecordDirectoryInvalid": "invalid directory",
        "BaseAddressInvalid": "base address of data points past the end of the record",
        "BaseAddressNotFound": "base address of data not found",
        "NoFieldsFound": "no fields found",
        "TruncatedRecord": "record shorter than its leader says",
        "EndOfRecordNotFound": "no end-of-record marker",
    }
    name = type(exc).__name__
    detail = str(exc) if not isinstance(exc, pymarc.exceptions.PymarcException) else ""
    return names.get(name, f"unreadable record structure ({name}{': ' + detail if detail else ''})")


def _decoder(encoding: str, warnings: list[str]):  # noqa: ANN202 - a small closure
    """A bytes -> clean str function for ``encoding`` that records problems in ``warnings``."""
    dropped = 0
    replaced = False

    def finish(text: str) -> str:
        nonlocal dropped
        text, n = clean(text)
        if n and not dropped:
            warnings.append("characters not allowed in XML 1.0 removed")
        dropped += n
        return text

    if encoding == enc.MARC8:

        def decode(value: bytes) -> str:
            nonlocal replaced
            try:
                return finish(MARC8ToUnicode(quiet=True).translate(value))
            except (IndexError, TypeError, KeyError, ValueError):
                if not replaced:
                    warnings.append("invalid MARC-8 sequence; unreadable bytes replaced by U+FFFD")
                    replaced = True
                return finish(value.decode("ascii", "replace"))

        return decode

    codec = encoding if encoding in enc.ENCODINGS else enc.UTF8

    def decode_codec(value: bytes) -> str:
        nonlocal replaced
        try:
            return finish(value.decode(codec))
        except UnicodeDecodeError:
            if not replaced:
                warnings.append(f"bytes that are not valid {codec} replaced by U+FFFD")
                replaced = True
            return finish(value.decode(codec, "replace"))

    return decode_codec


# ---------------------------------------------------------------------------------------------
# Writing


class TooLongForISO2709(ValueError):
    """A record ISO 2709 cannot hold (a field over 9,999 bytes or a record over 99,999)."""


def to_iso2709(record: MarcRecord, encoding: str = enc.UTF8) -> bytes:
    """The record as ISO 2709 in ``encoding`` (UTF-8 sets leader/09 ``a``, others blank).

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
    import unicodedata

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
    import unicodedata

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


VALID_TAG = re.compile(r"^[0-9A-Za-z]{3}$")
VALID_INDICATOR = re.compile(r"^[0-9a-z ]$")
VALID_CODE = re.compile(r"""^[0-9A-Za-z!"#$%&'()*+,\-./:;<=>?{}_^`~\[\]\\]$""")
