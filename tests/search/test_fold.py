"""The search key: a query in either Uzbek script, with any apostrophe, meets the record in the other."""

from __future__ import annotations

import re

import pytest

from repository.search.fold import INVISIBLE, WORD, fold, to_cyrillic, to_latin, words


@pytest.mark.parametrize(
    "variants",
    [
        ["Ўзбекистон тарихи", "Oʻzbekiston tarixi", "O'zbekiston tarixi", "O‘zbekiston Tarixi", "O’zbekiston",
         "O`zbekiston tarixi", "Ozbekiston TARIXI", "ЎЗБЕКИСТОН ТАРИХИ", "Özbekiston tarixi"],
        ["ғалаба", "gʻalaba", "g'alaba", "ğalaba", "Galaba"],
        ["шаҳар", "shahar", "şahar", "SHAHAR"],
        ["маъно", "maʼno", "ma'no", "mano"],
        ["Чўлпон", "Choʻlpon", "Çolpon", "cho'lpon"],
        ["Café", "cafe", "CAFÉ"],
        ["kutubxona", "kutub\u00adxona", "ku\u200btub\u200dxona", "\ufeffkutubxona", "kutub\u2060xo\u200cna"],
        ["кутубхона", "кутуб\u00adхона", "кутубхо\u200bна"],
    ],
)  # fmt: skip
def test_every_way_of_writing_a_word_folds_to_one_key_in_uzbek_text(variants: list[str]):
    keys = {fold(v, uzbek=True).split()[0] for v in variants}  # the first word: some variants have a second
    assert len(keys) == 1, keys


def test_turkish_letters_are_uzbek_only_in_uzbek_text_and_other_diacritics_fold_to_base_letters():
    assert fold("Ayşe Çelik") == fold("Ayse Celik") == "ayse celik"  # a Turkish name in a record in English
    assert fold("Ayşe Çelik", uzbek=True) == "ayshe chelik"  # Uzbek typed on a Turkish keyboard
    assert fold("Dvořák Núñez Müller Kazım Søren Łódź Straße Ðorđe Æsir Əliyev") == (
        "dvorak nunez muller kazim soren lodz strasse dorde aesir aliyev"
    )


def test_invisible_characters_are_dropped_on_both_sides_and_leave_a_word_whole():
    import sys
    import unicodedata

    every = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    invisible = re.compile(f"[{INVISIBLE}]")
    assert [chr(c) for c in range(sys.maxunicode + 1) if invisible.match(chr(c))] == every  # Cf, and only Cf
    assert fold("a" + "".join(every) + "b") == "ab"
    marked = "Kutub\u00adxona\u200bchilik asoslari"
    assert [m.group() for m in WORD.finditer(marked)] == ["Kutub\u00adxona\u200bchilik", "asoslari"]
    assert words(marked) == ["kutubxonachilik", "asoslari"]


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [("Oʻzbekiston tarixi", "Ўзбекистон тарихи"), ("Gʻafur Gʻulom", "Ғафур Ғулом"), ("Isʼhoq", "Исҳоқ"),
     ("maʼno", "маъно"), ("eski", "эски"), ("poeziya", "поэзия"), ("yer", "ер"), ("Yoshlar", "Ёшлар"),
     ("SHAHAR", "ШАҲАР"), ("Choʻlpon", "Чўлпон"), ("Qoraqalpogʻiston", "Қорақалпоғистон"), ("o'zbek", "ўзбек")],
)  # fmt: skip
def test_uzbek_latin_is_read_in_cyrillic_by_the_1995_rules_backwards(latin: str, cyrillic: str):
    assert to_cyrillic(latin) == cyrillic
    assert fold(cyrillic) == fold(latin)


def test_the_samples_uzbek_titles_go_to_the_other_script_and_back():
    from repository.metadata.sample import _UZ_CYRL, _UZ_LATN

    assert [fold(to_cyrillic(t)) for t in _UZ_LATN] == [fold(t) for t in _UZ_LATN]
    assert [to_cyrillic(to_latin(t)) for t in _UZ_CYRL] == _UZ_CYRL


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("ер", "yer"),  # е at the start of a word
        ("поезд", "poyezd"),  # е after a vowel
        ("телефон", "telefon"),  # е after a consonant
        ("объект", "obʼyekt"),  # е after ъ, which is the tutuq belgisi
        ("цирк", "sirk"),  # ц at the start of a word
        ("милиция", "militsiya"),  # ц after a vowel
        ("Исҳоқ", "Isʼhoq"),  # сҳ is s and h, not ш
        ("ёш", "yosh"),
        ("юлдуз", "yulduz"),
        ("ўқитувчи", "oʻqituvchi"),
        ("История", "Istoriya"),  # Russian text reads the same way
        ("щука", "shchuka"),
        ("сын", "sin"),
        ("ЁШЛАР", "YOSHLAR"),  # upper case stays upper
        ("Ёшлар", "Yoshlar"),
    ],
)
def test_cyrillic_to_latin_by_the_1995_rules(cyrillic: str, latin: str):
    assert to_latin(cyrillic) == latin


def test_latin_text_is_left_as_it_is_by_to_latin_and_folded_by_fold():
    assert to_latin("O'zbek tili, 1995") == "O'zbek tili, 1995"
    assert fold("O'zbek tili, 1995") == "ozbek tili, 1995"
    assert fold("don't") == "dont"  # the same fold for the text and the query: they meet


def test_folds_fast_path_agrees_with_the_rules_as_written():
    """``fold`` takes a faster path than ``to_latin``: on the sample's words and on random letters, they agree."""
    import random
    import unicodedata

    from repository.metadata.sample import _AUTHORS, _SUBJECTS, _titles
    from repository.search.fold import _APOSTROPHES, _TURKISH

    def by_the_rules(text: str) -> str:
        plain = unicodedata.normalize("NFKD", to_latin(text).lower().translate(_TURKISH))
        return _APOSTROPHES.sub("", "".join(ch for ch in plain if not unicodedata.combining(ch)))

    def by_the_rules_not_uzbek(text: str) -> str:
        plain = unicodedata.normalize("NFKD", to_latin(text).lower())
        return _APOSTROPHES.sub("", "".join(ch for ch in plain if not unicodedata.combining(ch)))

    texts = [
        t for lang in ("uzb", "uzb-cyrl", "rus", "eng") for t in (*_titles(lang), *_AUTHORS[lang], *_SUBJECTS[lang])
    ]
    rng = random.Random(1)
    letters = "аеёиоуэюяўыбвгдежзийклмнпрстфхцчшщъьқғҳ АЕЦСҲЪ-'ʻ1"
    texts += ["".join(rng.choice(letters) for _ in range(40)) for _ in range(2000)]
    assert [fold(t, uzbek=True) for t in texts] == [by_the_rules(t) for t in texts]
    assert [fold(t) for t in texts] == [by_the_rules_not_uzbek(t) for t in texts]
