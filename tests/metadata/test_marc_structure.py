"""Our ISO 2709 reader against pymarc, the reference reader, on every real-world file.

Wherever pymarc reads a record, we must read the same tags, indicators, subfield codes and bytes;
where pymarc gives up, we may read more (and say what we repaired), never less.
"""

from __future__ import annotations

import io
import logging
import warnings

import pymarc
import pytest

from repository.metadata import sample
from repository.metadata.marc import (
    DataField,
    MarcError,
    MarcRecord,
    _fold_code,
    _parse_careful,
    _parse_regular,
    parse_iso2709,
    read_structure,
    split_iso2709,
    to_iso2709,
)
from tests.actions.test_real_files import DATA, FILES

logging.getLogger("pymarc").setLevel(logging.ERROR)  # it logs every odd indicator
ISO_FILES = [p for p in FILES if p.read_bytes()[:5].lstrip(b"\x00 ").isdigit() or p.suffix in (".mrc", ".marc")]


def _pymarc_view(raw: bytes) -> list[tuple]:
    rec = pymarc.Record(data=raw, to_unicode=False)
    out = []
    for f in rec.fields:
        if f.is_control_field():
            out.append((f.tag, f.data))
        else:
            out.append((f.tag, "".join(f.indicators), [(c, v) for c, v in f.subfields]))
    return out


def _our_view(raw: bytes) -> list[tuple]:
    leader, fields = read_structure(raw, [])
    out = []
    for tag, body in fields:
        if tag < "010" and tag.isdigit():
            out.append((tag, body))
        else:
            head, _, rest = body.partition(b"\x1f")
            subs = []
            for p in rest.split(b"\x1f"):
                if p:
                    code, size = (chr(p[0]), 1) if p[0] < 0x80 else _fold_code(p)
                    subs.append((code, p[size:]))
            out.append((tag, (head.decode("ascii", "replace") + "  ")[:2], subs))  # first two, as pymarc
    return out


def _same_but_codes(ours: list[tuple], theirs: list[tuple]) -> bool:
    """Equal except where a code byte could not be folded: we say ``_``, pymarc some punctuation."""
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if len(a) == 2 or len(b) == 2 or a[:2] != b[:2] or len(a[2]) != len(b[2]):
            if a != b:
                return False
            continue
        for (ca, va), (cb, vb) in zip(a[2], b[2], strict=True):
            if va != vb or (ca != cb and not (ca == "_" and not cb.isalnum())):
                return False
    return True


@pytest.mark.parametrize("path", ISO_FILES, ids=[str(p.relative_to(DATA)) for p in ISO_FILES])
def test_we_read_what_pymarc_reads(path):
    with open(path, "rb") as fh:
        for raw in split_iso2709(fh):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    expected = _pymarc_view(raw.data)
            except Exception:  # noqa: BLE001 - pymarc gave up on this record; we may do better
                continue
            try:
                ours = _our_view(raw.data)
            except MarcError as exc:
                pytest.fail(f"record {raw.position}: pymarc reads it, we say {exc}")
            if ours != expected and _same_but_codes(ours, expected):
                continue
            if ours != expected:
                # pymarc trusts a wrong directory and cuts fields mid-byte; we then read by terminators
                found: list[str] = []
                read_structure(raw.data, found)
                assert any("directory" in w for w in found), f"record {raw.position} differs from pymarc"


def _regular_agrees_with_careful(raws: list[bytes]) -> int:
    """Assert the regular path reads each record it takes as the careful path does; count them."""
    taken = 0
    for raw in raws:
        for encoding in ("auto", "utf-8"):
            fast = _parse_regular(raw, encoding)
            if fast is None:
                continue
            taken += 1
            slow = _parse_careful(raw, encoding)
            assert (fast.record.leader, fast.record.fields) == (slow.record.leader, slow.record.fields)
            assert (fast.encoding, fast.warnings) == (slow.encoding, slow.warnings)
    return taken


@pytest.mark.parametrize("path", ISO_FILES, ids=[str(p.relative_to(DATA)) for p in ISO_FILES])
def test_the_regular_path_reads_real_files_as_the_careful_one(path):
    with open(path, "rb") as fh:
        _regular_agrees_with_careful([raw.data for raw in split_iso2709(fh)])


def test_the_regular_path_takes_the_sample_collection_and_reads_it_as_the_careful_one(tmp_path):
    files = {f.path.name: f.path for f in sample.build(tmp_path)}
    for name, path in files.items():
        if not name.endswith(".mrc"):
            continue
        raws = [raw.data for raw in split_iso2709(io.BytesIO(path.read_bytes()))]
        taken = _regular_agrees_with_careful(raws)
        if "utf8" in name:  # every generated UTF-8 record is regular, read with --encoding auto or utf-8
            assert taken == 2 * len(raws), name
        else:  # MARC-8 and cp1251 records are not, unless they are plain ASCII (the same in every encoding)
            assert taken == 2 * sum(raw.isascii() and b"\x1b" not in raw for raw in raws), name


def test_an_irregular_record_goes_down_the_careful_path():
    rec = MarcRecord("00000nam a2200000 i 4500", [DataField("245", "1", "0", (("a", "Title"),))])
    good = to_iso2709(rec)
    assert _parse_regular(good, "auto") is not None
    control_char = to_iso2709(MarcRecord(rec.leader, [DataField("245", "1", "0", (("a", "Ti\x01tle"),))]))
    bad_indicator = to_iso2709(MarcRecord(rec.leader, [DataField("245", "#", "0", (("a", "Title"),))]))
    bad_code = to_iso2709(MarcRecord(rec.leader, [DataField("245", "1", "0", (("@", "Title"),))]))
    cp1251 = to_iso2709(MarcRecord(rec.leader, [DataField("245", "1", "0", (("a", "Заглавие"),))]), "cp1251")
    wrong_length = bytearray(good)
    wrong_length[27:31] = b"0099"
    for raw in (control_char, bad_indicator, bad_code, cp1251, bytes(wrong_length), good[:-1]):
        assert _parse_regular(raw, "auto") is None
        parse_iso2709(raw)  # and the careful path reads it (or raises MarcError with a reason)
