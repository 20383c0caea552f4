"""Search as people type, on both backends: е and ё, Uzbek in either script and on a Russian keyboard, invisible
characters, other alphabets' diacritics, places by any of their names, Russian adjectives and their nouns, and a
"did you mean" in the query's own script that finds something.  Every query here and in test_queries.py is also
run in the other script, and finds the same records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repository.search.fold import to_cyrillic, to_latin
from tests.conftest import Cli
from tests.helpers import import_json, marc, write
from tests.search import test_queries
from tests.search.corpus import f008, field, ids, records, search


def typing_records(tmp_path: Path) -> Path:
    """T1-T12: Russian with ё, Uzbek Cyrillic with ў қ ғ ҳ, a Turkish name, invisible characters, places."""
    return write(
        tmp_path / "typing.mrc",
        marc("T1", "Археология Хорезма", f008(1985, "rus"), field("100", ("a", "Иванов, Пётр Сергеевич"), ind="1 ")),
        marc("T2", "Поэзия Серебряного века", f008(1990, "rus"), field("100", ("a", "Ёлкин, Олег"), ind="1 ")),
        marc("T3", "Петр Первый и его время", f008(1970, "rus")),
        marc("T4", "Ҳамза Ҳакимзода Ниёзий ҳаёти", f008(2000, "uzb")),
        marc("T5", "Қорақалпоғистон табиати", f008(2001, "uzb")),
        marc("T6", "Бобурнома шарҳи", f008(2002, "uzb")),
        marc("T7", "Ўзбекистон тарихи", f008(2003, "uzb"), field("260", ("a", "Тошкент"), ("b", "Фан"))),
        marc("T8", "Uzbek folk tales", f008(2015, "eng"), field("100", ("a", "Çelik, Ayşe"), ind="1 ")),
        marc("T9", "Çolpon sheʼrlari", f008(2004, "uzb")),  # Uzbek typed on a Turkish keyboard
        marc("T10", "Kutub\u00adxona\u200bchilik asoslari", f008(2010, "uzb")),  # a soft hyphen, a zero-width space
        marc("T11", "Samarqand meʼmoriy yodgorliklari", f008(2011, "uzb")),
        marc("T12", "Guliston shahri tarixi", f008(2012, "uzb")),
    )  # fmt: skip


@pytest.fixture
def corpus(cli: Cli, tmp_path: Path) -> None:
    assert import_json(cli, typing_records(tmp_path))[0]["created"] == 12


#: queries that read the same in either script (the script test below writes them in the other)
QUERIES = [
    # е and ё are one letter
    ("Петр Иванов", {"T1"}),
    ("петр", {"T1", "T3"}),
    ("Пётр", {"T1", "T3"}),
    ("елкин", {"T2"}),
    ("Ёлкин", {"T2"}),
    # an Uzbek word is no Russian one, whatever its script
    ("тарихи", {"T7", "T12"}),
    ("tarixi", {"T7", "T12"}),
    ("ўзбекистон тарихи", {"T7"}),
    # invisible characters inside a word, in the record and in the query
    ("kutubxonachilik", {"T10"}),
    ("kutub\u00adxona\u200dchilik", {"T10"}),
    ("кутубхоначилик", {"T10"}),
    # Turkish letters: Uzbek in an Uzbek record and in a query, base letters in any other record
    ("Ayse Celik", {"T8"}),
    ("celik", {"T8"}),
    ("Ayşe Çelik", {"T8"}),
    ("Choʻlpon", {"T9"}),
    ("Чўлпон", {"T9"}),
    ("Çolpon", {"T9"}),
    # places by any of their names, historic ones too, and by their Russian adjectives
    ("Ташкент", {"T7"}),
    ("Tashkent", {"T7"}),
    ("Самарканд", {"T11"}),
    ("Samarkand", {"T11"}),
    ("Xorazm", {"T1"}),
    ("Каракалпакстан", {"T5"}),
    ("Karakalpakstan", {"T5"}),
    ("Мирзачуль", {"T12"}),
    ("Гулистан", {"T12"}),
    # a Russian adjective finds its noun
    ("хорезмская археология", {"T1"}),
    ("хорезмской", {"T1"}),
]

#: Uzbek typed on a Russian keyboard: у к х г for ў қ ҳ ғ (Cyrillic only: a Latin keyboard lacks no letter)
KEYBOARD = [
    ("узбекистон тарихи", {"T7"}),
    ("коракалпогистон", {"T5"}),
    ("Хамза", {"T4"}),
    ("шархи", {"T6"}),
    ("узбекист", {"T7"}),  # a word still being typed
]


@pytest.mark.parametrize(("query", "expected"), QUERIES + KEYBOARD)
def test_search_as_people_type(cli: Cli, corpus: None, query: str, expected: set[str]):
    assert set(ids(cli, query)) == expected


def test_a_record_only_matches_a_turkish_spelling_where_it_is_uzbek(cli: Cli, corpus: None):
    assert ids(cli, "chelik") == [] and ids(cli, "celik") == ["T8"]  # Çelik in an English record is no Uzbek word
    assert ids(cli, "cholpon") == ["T9"] and ids(cli, "colpon") == []  # and Çolpon in an Uzbek one is Choʻlpon


def test_did_you_mean_keeps_the_querys_script_and_finds_something(cli: Cli, corpus: None):
    assert search(cli, "ўзбекистн тарихи")["suggestion"] == "ўзбекистон тарихи"  # as the record spells it
    assert search(cli, "ozbekistn tarixi")["suggestion"] == "oʻzbekiston tarixi"  # in Latin, by the 1995 rules
    assert search(cli, "kutubxonachilk")["suggestion"] == "kutubxonachilik"
    # each word has a close one, but together they find nothing: no suggestion
    assert search(cli, "kutubxonachilk tabiati")["suggestion"] is None


_LETTER_RUN = re.compile(r"[^\W\d_][\w\u02bb\u02bc'`\u2018\u2019\u00ad\u200b-\u200d]*")
_NOT_WORDS = {"OR", "NOT", "AND"}


def in_the_other_script(query: str) -> str | None:
    """The query with its words written in the other script, or None if it has none to write so (codes,
    numbers, or a word with letters of neither Uzbek alphabet: Çelik, science)."""
    if any(ch.isdigit() or ch in "/." for ch in query):
        return None
    unwritable = []

    def other(match: re.Match[str]) -> str:
        word = match.group()
        written = to_latin(word) if re.search("[\u0400-\u04ff]", word) else to_cyrillic(word)
        if any(
            ch.isalpha() and not ch.isascii() and not "\u0400" <= ch <= "\u04ff" and ch not in "ʻʼ" for ch in written
        ) or (not re.search("[\u0400-\u04ff]", word) and re.search("[A-Za-z]", written)):
            unwritable.append(word)
        return written

    out = []
    for token in query.split(" "):
        name, colon, body = token.rpartition(":") if ":" in token else ("", "", token)
        if token in _NOT_WORDS or name.lstrip("-").lower() in ("year", "lang", "language", "type", "set"):
            out.append(token)
        else:
            out.append(name + colon + _LETTER_RUN.sub(other, body))
    written = " ".join(out)
    return None if unwritable or written == query else written


def _queries() -> list[str]:
    kinds = next(m for m in test_queries.test_query_kinds.pytestmark if m.name == "parametrize")
    return [q for q, _ in kinds.args[1]] + [q for q, _ in QUERIES]


def test_every_query_finds_the_same_records_in_either_script(cli: Cli, tmp_path: Path):
    import_json(cli, records(tmp_path), typing_records(tmp_path))
    compared = 0
    for query in _queries():
        other = in_the_other_script(query)
        if other is None:
            continue
        assert set(ids(cli, other)) == set(ids(cli, query)), (query, other)
        compared += 1
    assert compared >= 40  # most of them have words to write in the other script
