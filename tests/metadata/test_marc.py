"""ISO 2709 splitting and parsing, encodings, MARC-8, writing."""

from __future__ import annotations

import io

import pytest

from repository.metadata import encoding
from repository.metadata.marc import (
    ControlField,
    DataField,
    MarcError,
    MarcRecord,
    TooLongForISO2709,
    encode_marc8,
    parse_iso2709,
    split_iso2709,
    to_iso2709,
    to_text,
)


def record(title: str = "Oʻzbekiston tarixi", leader: str = "00000nam a2200000 i 4500", **extra: str) -> MarcRecord:
    fields = [ControlField("001", extra.get("ctl", "T1")), DataField("245", "1", "0", (("a", title),))]
    return MarcRecord(leader, fields)


def test_utf8_round_trip_through_iso2709():
    rec = record("Ўзбекистон тарихи: Qoʻqon xonligi")
    data = to_iso2709(rec)
    assert data[9:10] == b"a" and data.endswith(b"\x1d")
    decoded = parse_iso2709(data)
    assert decoded.encoding == "utf-8"
    assert decoded.record.fields == rec.fields
    assert not decoded.warnings


@pytest.mark.parametrize("text", ["Café Ñandú Dvořák", "Война и мир", "Tolstoy: Война и мир. Москва"])
def test_marc8_encoding_round_trips_through_pymarc(text: str):
    data = to_iso2709(record(text), "marc-8")
    assert data[9:10] == b" "
    decoded = parse_iso2709(data)
    assert decoded.encoding == "marc-8"
    assert decoded.record.datafields("245")[0].get("a") == text


def test_marc8_refuses_characters_it_cannot_hold():
    with pytest.raises(ValueError, match="no MARC-8 form"):
        encode_marc8("Қорақалпоғистон")  # Қ and ғ are in no MARC-8 set we write


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r", "cp866"])
def test_cyrillic_code_pages_are_recognised_with_a_blank_leader(codec: str):
    rec = record("Электронные библиотеки: теория и практика каталогизации")
    data = to_iso2709(rec, codec)
    assert data[9:10] == b" "
    decoded = parse_iso2709(data)
    assert decoded.encoding == codec
    assert decoded.record.datafields("245")[0].get("a") == rec.fields[1].get("a")


def test_utf8_with_blank_leader_is_read_as_utf8_with_a_warning():
    data = bytearray(to_iso2709(record("Ўзбекистон")))
    data[9] = ord(" ")
    decoded = parse_iso2709(bytes(data))
    assert decoded.encoding == "utf-8"
    assert decoded.record.datafields("245")[0].get("a") == "Ўзбекистон"
    assert any("blank" in w for w in decoded.warnings)


def test_marc8_labelled_utf8_is_read_as_marc8_with_a_warning():
    data = bytearray(to_iso2709(record("Café Dvořák"), "marc-8"))
    data[9] = ord("a")
    decoded = parse_iso2709(bytes(data))
    assert decoded.encoding == "marc-8"
    assert decoded.record.datafields("245")[0].get("a") == "Café Dvořák"
    assert any("not UTF-8" in w for w in decoded.warnings)


def test_invalid_utf8_that_is_no_legacy_encoding_is_replaced_not_fatal():
    data = bytearray(to_iso2709(record("abc def")))
    pos = data.index(b"abc")
    data[pos] = 0xC0  # an overlong-sequence start byte with an ASCII follower
    decoded = parse_iso2709(bytes(data))
    assert decoded.record.datafields("245")[0].get("a")  # still a title
    assert decoded.warnings


def test_unimarc_charset_field_names_the_encoding():
    assert encoding.unimarc_charset("20230115d2021    u  y0rusy50      ca") == "utf-8"
    assert encoding.unimarc_charset("20230115d2021    u  y0rusy89      ca") == "cp1251"
    assert encoding.unimarc_charset("20230115d2021    u  y0rusy0102    ca") == "cyrillic"
    assert encoding.unimarc_charset("short") is None


def test_control_characters_are_dropped_with_a_warning():
    decoded = parse_iso2709(to_iso2709(record("Bad\x01 title\x0b")))
    assert decoded.record.datafields("245")[0].get("a") == "Bad title"
    assert any("XML 1.0" in w for w in decoded.warnings)


def test_split_survives_filler_wrong_lengths_and_missing_terminator():
    good = to_iso2709(record("One"))
    wrong_length = b"99999" + to_iso2709(record("Two"))[5:]
    no_terminator = to_iso2709(record("Three"))[:-1]
    stream = io.BytesIO(b"\x00  \n" + good + b"\r\n\x1a" + wrong_length + b"  " + no_terminator)
    parts = list(split_iso2709(stream, chunk_size=7))
    assert [p.position for p in parts] == [1, 2, 3]
    assert parts[0].data == good and parts[0].offset == 4
    assert any("leader gives length" in w for w in parts[1].warnings)
    assert parse_iso2709(parts[1].data).record.datafields("245")[0].get("a") == "Two"
    assert "no end-of-record marker" in parts[2].warnings


def test_unreadable_structures_raise_marc_error_with_a_reason():
    with pytest.raises(MarcError, match="truncated"):
        parse_iso2709(b"00026nam")
    with pytest.raises(MarcError, match="leader"):
        parse_iso2709(b"abcdefghijklmnopqrstuvwxyz0123456789\x1d")
    good = bytearray(to_iso2709(record()))
    good[24:27] = b"\xb2\xb2\xb2"  # non-ASCII in the directory
    with pytest.raises(MarcError, match="non-ASCII"):
        parse_iso2709(bytes(good))


def test_iso2709_refuses_what_it_cannot_hold():
    big = MarcRecord("00000nam a2200000 i 4500", [DataField("500", " ", " ", (("a", "x" * 10_000),))])
    with pytest.raises(TooLongForISO2709, match="field 500"):
        to_iso2709(big)
    many = MarcRecord("00000nam a2200000 i 4500", [DataField("500", " ", " ", (("a", "y" * 9000),)) for _ in range(12)])
    with pytest.raises(TooLongForISO2709, match="record is"):
        to_iso2709(many)


def test_text_form_is_mnemonic():
    text = to_text(record("Title"))
    assert "=LDR  00000nam a2200000 i 4500" in text
    assert "=245  10$aTitle" in text


def test_a_stored_record_reads_back_as_written_and_anything_else_with_every_check():
    from repository.metadata.marcxml import parse_record, to_marcxml

    record = MarcRecord("00000nam a2200000 i 4500", [ControlField("001", "P1"),
                        DataField("245", "1", "0", (("a", "Oʻzbek & <tili>"), ("c", "")))])  # fmt: skip
    assert parse_record(to_marcxml(record)) == record
    ns = 'xmlns="http://www.loc.gov/MARC21/slim"'
    odd = (f'<record {ns}><leader>00000nam a2200000 i 4500</leader><!-- a note -->'
           f'<datafield tag="245"><subfield code="a">Kito\u0301b</subfield></datafield></record>')  # fmt: skip
    read = parse_record(odd)  # a comment, no indicators, text not NFC: the checked reader's answer
    assert read.fields == [DataField("245", " ", " ", (("a", "Kitób"),))]
    # attributes not as stored: in another order, one more on a subfield, a comment among the subfields
    leader = "<leader>00000nam a2200000 i 4500</leader>"
    for datafield in (
        '<datafield ind1="1" ind2="0" tag="245"><subfield code="a">Kitob</subfield></datafield>',
        '<datafield tag="245" ind1="1" ind2="0"><subfield code="a" x="y">Kitob</subfield></datafield>',
        '<datafield tag="245" ind1="1" ind2="0"><!-- n --><subfield code="a">Kitob</subfield></datafield>',
    ):
        read = parse_record(f"<record {ns}>{leader}{datafield}</record>")
        assert read.fields == [DataField("245", "1", "0", (("a", "Kitob"),))], datafield
