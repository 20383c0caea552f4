"""UNIMARC 100 $a (general processing data) against its definition: the checker, the completion an
export makes, and the sample collection's records."""

from __future__ import annotations

from pathlib import Path

import pytest

from repository.metadata.marc import ControlField, DataField, MarcRecord, parse_iso2709
from repository.metadata.unimarc import check_100a, complete_100a

VALID = "20230115d1995    u  y0uzby50      ba"


def test_a_valid_100a_has_no_problems():
    assert len(VALID) == 36 and check_100a(VALID) == []
    assert check_100a("19990320a19999999km a1rusa0103  02ca") == []  # a serial; G1 and additional sets
    assert check_100a("20010101u        u  y0engy50      zz") == []  # dates unknown


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("20230115d1995    u  y0uzby50    ba", "34 characters, not 36"),  # the old sample: script in 32-33
        ("20231315d1995    u  y0uzby50      ba", "0-7 (date entered on file)"),
        ("20230115x1995    u  y0uzby50      ba", "8 (type of publication date)"),
        ("20230115d19x5    u  y0uzby50      ba", "9-12 (publication date 1)"),
        ("20230115d1995    q  y0uzby50      ba", "17-19 (target audience)"),
        ("20230115d1995    u  x0uzby50      ba", "20 (government publication)"),
        ("20230115d1995    u  y2uzby50      ba", "21 (modified record)"),
        ("20230115d1995    u  y0UZ y50      ba", "22-24 (language of cataloguing)"),
        ("20230115d1995    u  y0uzbq50      ba", "25 (transliteration)"),
        ("20230115d1995    u  y0uzby        ba", "26-29 (character sets)"),
        ("20230115d1995    u  y0uzby50    ba  ", "30-33 (additional character sets)"),
        ("20230115d1995    u  y0uzby50      xx", "34-35 (script of title)"),
    ],
)
def test_each_position_is_checked(value: str, problem: str):
    problems = check_100a(value)
    assert len(problems) >= 1 and any(problem in p for p in problems), problems


def test_completion_keeps_what_is_valid_and_completes_the_rest():
    record = MarcRecord("00000nam0 22000001i 450 ", [
        ControlField("001", "U1"), DataField("200", "1", " ", (("a", "Ўзбекистон тарихи"),)),
        DataField("210", " ", " ", (("d", "[1997]"),))])  # fmt: skip
    assert complete_100a(VALID, "20240101", record) == VALID  # nothing to do
    done = complete_100a("20230115d1995    u  y0uzby50    ba", "20240101", record)
    assert done == "20230115d1995    u  y0uzby50      ca" and check_100a(done) == []
    made = complete_100a(None, "20240101", record)  # no 100 at all: from the record and its date entered
    assert made == "20240101d1997    u  u0undy50      ca" and check_100a(made) == []
    undated = MarcRecord("", [DataField("200", "1", " ", (("a", "Title"),))])
    assert complete_100a("1995", "20240101", undated) == "20240101u        u  u0undy50      ba"
    assert complete_100a(VALID[:26] + "89      ba", "20240101", record)[26:30] == "50  "  # written in UTF-8


def test_the_sample_collection_has_a_complete_100a(tmp_path: Path):
    from repository.metadata.sample import build

    files = {f.path.name: f.path for f in build(tmp_path)}
    for name, problems in (("uzmarc-unimarc-utf8.mrc", []), ("rusmarc-unimarc-cp1251.mrc", ["26-29"])):
        data = files[name].read_bytes()
        values = [parse_iso2709(raw + b"\x1d").record.first("100", "a") for raw in data.split(b"\x1d")[:-1]]
        assert len(values) in (50, 40)
        for value in values:
            assert len(value) == 36, value
            # the RUSMARC file names no character set, as CIS systems export it: the reader decides
            assert [p.split(" ")[1] for p in check_100a(value)] == problems, (value, check_100a(value))
