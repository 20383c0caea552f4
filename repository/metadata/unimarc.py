"""UNIMARC's general processing data (100 $a) checked against its definition and completed, and a
UNIMARC record made ready for exchange in UTF-8.

100 $a is 36 characters whose meaning is their position (UNIMARC Manual, Bibliographic Format,
field 100): a record from a CIS system often has a shorter one (RUSMARC exports of 34 characters
put the script of the title in 32-33) or none, and a reader then finds no character-set
statement.  An export keeps every position of the source that is valid and completes the rest
from the record itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

from repository.metadata.marc import ControlField, DataField, MarcRecord, unimarc_label

LENGTH_100A = 36
UTF8_SETS = "50  "  # 26-29: G0 = 50, ISO 10646 Level 3 (Unicode, written as UTF-8); no G1

# the coded values of UNIMARC 100 $a, position by position
_DATE_TYPES = frozenset("abcdefghijklu")  # 8: a-c continuing resources, d-l monographs, u dates unknown
_AUDIENCES = frozenset("abcdekmu ")  # 17-19: up to three codes, unused positions blank
_GOVERNMENT = frozenset("abcdefghuyz")  # 20: y = not a government publication, u = unknown
_MODIFIED = frozenset("01")  # 21: 1 = characters the sets cannot hold were replaced
_TRANSLITERATION = frozenset("abcy")  # 25: y = no transliteration
_CHARACTER_SETS = frozenset(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "50"])
# 34-35: ba Latin, ca Cyrillic, da-dc Japanese, ea Chinese, fa Arabic, ga Greek, ha Hebrew, ... zz other
_SCRIPTS = frozenset(["ba", "ca", "da", "db", "dc", "ea", "fa", "ga", "ha", "ia", "ja", "ka", "la", "ma", "mb", "zz"])
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")


def _entered(value: str) -> bool:
    if not value.isdigit() or len(value) != 8:
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _year(value: str) -> bool:
    return len(value) == 4 and all(c.isdigit() or c == " " for c in value)


def _dates(value: str) -> bool:
    """8-16 taken together: a type, and dates that agree with it (none when they are unknown)."""
    kind, first, second = value[:1], value[1:5], value[5:9]
    if kind not in _DATE_TYPES or not (_year(first) and _year(second)):
        return False
    return first == second == "    " if kind == "u" else first.strip() != ""


def _sets(value: str) -> bool:
    return value[:2] in _CHARACTER_SETS and (value[2:] in _CHARACTER_SETS or value[2:] == "  ")


def _additional(value: str) -> bool:
    return all(value[i : i + 2] in _CHARACTER_SETS or value[i : i + 2] == "  " for i in (0, 2))


# (first position, last position, name, is the value valid): the UNIMARC definition of 100 $a
_POSITIONS: list[tuple[int, int, str, Callable[[str], bool]]] = [
    (0, 7, "date entered on file", _entered),
    (8, 8, "type of publication date", lambda v: v in _DATE_TYPES),
    (9, 12, "publication date 1", _year),
    (13, 16, "publication date 2", _year),
    (17, 19, "target audience", lambda v: v[:1] != " " and all(c in _AUDIENCES for c in v)),  # at least one
    (20, 20, "government publication", lambda v: v in _GOVERNMENT),
    (21, 21, "modified record", lambda v: v in _MODIFIED),
    (22, 24, "language of cataloguing", lambda v: len(v) == 3 and v.isascii() and v.isalpha() and v.islower()),
    (25, 25, "transliteration", lambda v: v in _TRANSLITERATION),
    (26, 29, "character sets", _sets),
    (30, 33, "additional character sets", _additional),
    (34, 35, "script of title", lambda v: v in _SCRIPTS),
]


def check_100a(value: str) -> list[str]:
    """What in a UNIMARC 100 $a breaks its definition, one line per wrong element; empty when valid."""
    problems = []
    if len(value) != LENGTH_100A:
        problems.append(f"100 $a has {len(value)} characters, not {LENGTH_100A}")
    wrong: set[int] = set()
    for first, last, name, valid in _POSITIONS:
        part = value[first : last + 1]
        if len(part) < last - first + 1 or not valid(part):
            wrong.add(first)
            span = f"{first}-{last}" if last > first else str(first)
            problems.append(f"positions {span} ({name}): {part!r} is not valid")
    if not wrong & {8, 9, 13} and not _dates(value[8:17]):  # each valid, but not together
        problems.append(f"positions 8-16 (type of publication date and dates): {value[8:17]!r} disagree")
    return problems


def _script(text: str) -> str:
    """The UNIMARC code of the script a title is written in (34-35), by its letters."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            script = next((code for word, code in _SCRIPT_NAMES if name.startswith(word)), "zz")
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda code: counts[code]) if counts else "ba"


# Unicode character names -> script codes; Uzbek's oʻ is a modifier letter in Latin text
_SCRIPT_NAMES = tuple(
    (name, code)
    for code, names in (("ba", "LATIN|MODIFIER LETTER"), ("ca", "CYRILLIC"), ("fa", "ARABIC"), ("ga", "GREEK"),
                        ("ha", "HEBREW"), ("ia", "THAI"), ("ja", "DEVANAGARI"), ("ka", "HANGUL"), ("la", "TAMIL"),
                        ("ma", "GEORGIAN"), ("mb", "ARMENIAN"), ("ea", "CJK"), ("dc", "HIRAGANA|KATAKANA"))
    for name in names.split("|")
)  # fmt: skip


def complete_100a(value: str | None, entered: str, record: MarcRecord) -> str:
    """A 100 $a that meets the definition: the valid positions of ``value`` kept, the others made.

    Made from the record: dates from 210/214 $d, the script from the title (200 $a); the date
    entered on file is ``entered`` (YYYYMMDD, when the record came into the catalogue); the
    character sets always say UTF-8, as the record is written in it.
    """
    value = (value or "").ljust(LENGTH_100A)[:LENGTH_100A]
    year = next((m.group(1) for f in record.datafields("210", "214") for m in [_YEAR.search(f.get("d") or "")] if m),
                None)  # fmt: skip
    made = {
        0: entered,
        8: f"d{year}    " if year else "u" + " " * 8,
        17: "u  ",
        20: "u",
        21: "0",
        22: "und",
        25: "y",
        30: "    ",
        34: _script(record.first("200", "a") or ""),
    }
    out = []
    for first, last, _name, valid in _POSITIONS:
        if first in (9, 13):
            continue  # taken with 8: a type and its dates agree, or are made together
        if first == 8:
            last = 16
            valid = _dates
        part = value[first : last + 1]
        if first == 26:
            part = UTF8_SETS  # the export writes UTF-8, whatever the source was in
        elif not valid(part):
            part = made[first]
        out.append(part)
    return "".join(out)


def for_exchange(record: MarcRecord, entered: date) -> MarcRecord:
    """The record as a UNIMARC export writes it: a complete 100 $a saying UTF-8, a UNIMARC record label.

    A record without a 100 gets one, in tag order; ``entered`` is its date entered on file.
    """
    stamp = entered.strftime("%Y%m%d")
    fields = list(record.fields)
    for i, f in enumerate(fields):
        if isinstance(f, DataField) and f.tag == "100":
            old = f.get("a")
            new = complete_100a(old, stamp, record)
            subfields = tuple(("a", new) if code == "a" else (code, v) for code, v in f.subfields)
            if old is None:
                subfields = (("a", new), *subfields)
            fields[i] = DataField("100", f.ind1, f.ind2, subfields)
            break
    else:
        at = next((i for i, f in enumerate(fields) if not isinstance(f, ControlField) and f.tag > "100"), len(fields))
        fields.insert(at, DataField("100", " ", " ", (("a", complete_100a(None, stamp, record)),)))
    return MarcRecord(unimarc_label(record.leader), fields)
