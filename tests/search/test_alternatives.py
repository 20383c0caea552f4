"""A typed word's alternatives: Russian stems, lemma forms and the nouns of adjectives, in either script; the
names of places; е and ё; Turkish letters; letters a Russian keyboard lacks.  Only what the index holds is kept:
the index here is a real embedded one, holding the words of ``TEXTS``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from repository.search.alternatives import expand
from repository.search.documents import Indexed
from repository.search.embedded import EmbeddedIndex
from repository.search.fold import words
from repository.search.query import TEXT_FIELDS, Query, parse

TEXTS = [
    "Библиотека и читатель", "Ўзбекистон тарихи", "Oʻzbekiston tarixi", "Tarix", "Toshkent", "Tashkentskiy universitet",
    "Пётр Иванов", "Петр Первый", "Лев Толстой", "Хорезм", "Xorazm", "Khorezm", "Kermine", "Choʻlpon", "Семёнов",
    "Qoraqalpogʻiston", "Ҳамза", "Бобурнома шарҳи", "Ёлкин", "Ayşe Çelik", "шархлар", "История",
]  # fmt: skip


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedIndex]:
    path: Path = tmp_path_factory.mktemp("alternatives") / "search.sqlite3"
    index = EmbeddedIndex(path)
    blank = ("",) * (len(TEXT_FIELDS) - 1)
    index.update([Indexed(n, f"T{n}", words=(" ".join(words(t)), *blank)) for n, t in enumerate(TEXTS, start=1)])
    yield index
    index.close()


def read(index: EmbeddedIndex, text: str) -> Query:
    return expand(parse(text), index.known)


def group(index: EmbeddedIndex, text: str) -> list[tuple[str, bool]]:
    """The first group's words, each with whether it is a prefix: the typed word (or its stem) first."""
    return [(t.words[0], t.prefix) for t in read(index, text).groups[0]]


def test_a_russian_word_is_stemmed_in_either_script_and_an_uzbek_word_in_neither(index: EmbeddedIndex):
    assert group(index, "библиотеки")[0] == group(index, "biblioteki")[0] == ("bibliotek", True)
    assert group(index, "тарихи") == group(index, "tarixi") == [("tarixi", True)]  # no Russian word: as typed
    assert group(index, "kitoblar") == [("kitoblar", True)]


def test_the_forms_of_a_lemma_that_a_stem_does_not_reach(index: EmbeddedIndex):
    assert ("lev", False) in group(index, "льва")  # лев, льва: the stem (льв) is no prefix of лев
    assert group(index, "петра") == [("petra", True), ("pyotr", False), ("petr", False)]  # a name: not stemmed
    assert ("yolkin", False) in group(index, "елкин")  # the dictionary knows Ёлкин, with its ё


def test_an_adjective_finds_the_noun_it_is_made_from(index: EmbeddedIndex):
    found = group(index, "хорезмская")
    assert found[0] == ("xorezmsk", True) and "xorezm" in {w for w, _ in found}  # хорезмский: Хорезм
    assert ("biblioteka", False) in group(index, "библиотечная")  # библиотечный: библиотека
    assert ("istoriya", False) in group(index, "историческая")  # исторический: история


def test_a_place_is_searched_by_its_other_names(index: EmbeddedIndex):
    assert group(index, "Ташкент") == [("tashkent", True), ("toshkent", True)]
    assert ("tashkent", True) in group(index, "Toshkentda")  # an Uzbek ending
    assert ("tashkent", True) in group(index, "тошкент")  # Uzbek Cyrillic
    assert ("kermine", True) in group(index, "Навои")  # a historic name
    assert {("xorazm", True), ("khorezm", True)} <= set(group(index, "хорезмская"))  # a place's adjective
    assert ("qoraqalpogiston", True) in group(index, "Каракалпакстан")


def test_e_and_yo_are_one_letter_after_a_consonant(index: EmbeddedIndex):
    assert ("semyonov", True) in group(index, "Семенов")
    assert ("semyonov", True) in group(index, "semenov")  # as folded: a Latin transliteration too
    assert ("petr", True) in group(index, "Пётр")


def test_turkish_letters_are_read_both_ways_in_a_query(index: EmbeddedIndex):
    assert group(index, "Çolpon") == [("colpon", True), ("cholpon", True)]
    assert group(index, "Ayşe")[0] == ("ayse", True)


def test_letters_a_russian_keyboard_lacks(index: EmbeddedIndex):
    assert ("ozbekiston", True) in group(index, "узбекистон тарихи")
    assert ("qoraqalpogiston", True) in group(index, "коракалпогистон")
    assert ("hamza", True) in group(index, "Хамза")
    assert ("sharhi", True) in group(index, "шархи")
    # a query with a letter only an Uzbek keyboard has was typed on one: у is у there
    assert group(index, "узбекистон ўқитувчи") == [("uzbekiston", True)]
    assert group(index, 'узбекистон "ўқитувчи"') == [("uzbekiston", True)]  # in a phrase too


def test_only_what_the_index_holds_is_added_and_phrases_and_codes_stay_as_typed(index: EmbeddedIndex):
    assert len(group(index, "Андижан")) == 1  # Andijon's other names: none in this index
    assert read(index, '"пётр иванов"').groups == parse('"пётр иванов"').groups
    assert read(index, "udc:94").groups == parse("udc:94").groups
    excluded = read(index, "tarix NOT Ташкент").excluded
    assert {t.words[0] for t in excluded} == {"tashkent", "toshkent"}  # what is left out, in every reading
