"""Russian words as a query reads them: Snowball stems, the forms of a word's lemma, and the nouns adjectives
are made from.  pymorphy3 (with the OpenCorpora dictionary of pymorphy3-dicts-ru) and snowballstemmer are
imported here only.

Only queries are read so (``search.alternatives``): looking a word up in the dictionary costs about
80 µs, and reading it with its lemma's forms about 140 µs (``bench/words.py``); lemmatising the
Cyrillic words of a record would cost about 410 µs, six times folding it for the index, so the index
keeps the words as written and a query word is widened to the forms its lemma shares instead.  The
analyser (about 60 ms to load with the DAWG C extension) is loaded by the first query that needs it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import pymorphy3
import snowballstemmer

_PROPER = frozenset({"Name", "Surn", "Patr"})
_LOCK = threading.Lock()
_ANALYSER: list[pymorphy3.MorphAnalyzer] = []
_STEMMER = snowballstemmer.stemmer("russian")  # keeps state while it stems: used under ``_LOCK``

# How a relational adjective's lemma is made from a noun: the adjective's ending, and the endings a noun
# made that way may have in its place (историческ-ий: истор-ия, археолог-ия; математическ-ий: математ-ика;
# хорезм-ский: хорезм; бухар-ский: бухар-а; хивин-ский: хив-а; россий-ский: росси-я; сибир-ский: сибир-ь;
# библиотеч-ный: библиотек-а, the consonant alternating).  Each guess is kept only if the dictionary knows
# it as a noun in its normal form, so a wrong guess costs a look-up and finds nothing.
_DERIVED = (
    ("ический", ("ия", "ика", "ик")),
    ("ский", ("", "а", "я", "ь", "-ин+а", "-ин+и", "-й+я")),
    ("ской", ("", "е", "а")),
    ("цкий", ("к", "ка", "ц")),
    ("ный", ("", "а", "о", "ь", "я", "ч>к+а", "ж>г+а", "ш>х+а")),
    ("ной", ("", "а", "о", "ь")),
    ("ний", ("ь", "ня", "")),
    ("овый", ("", "а")),
    ("евый", ("", "ь", "я")),
    ("овой", ("", "а")),
)
_ALTERNATING = {"ч": "к", "ж": "г", "ш": "х"}


@dataclass(frozen=True)
class Reading:
    """What the Russian dictionary says of a word a reader typed.

    ``stem``: its Snowball stem ('' for a proper name: the stemmer cuts names as if they were common
    words, Гулом to гул); ``forms``: every form of its lemma (ё written both ways, as Russian print
    omits its dots); ``nouns``: the forms of the nouns an adjective is made from (хорезмская:
    Хорезм, Хорезма ...); ``lemmas``: the normal forms (the word's and its nouns').
    """

    stem: str
    forms: tuple[str, ...]
    nouns: tuple[str, ...]
    lemmas: tuple[str, ...]


def _analyser() -> pymorphy3.MorphAnalyzer:
    with _LOCK:
        if not _ANALYSER:
            _ANALYSER.append(pymorphy3.MorphAnalyzer(lang="ru"))
        return _ANALYSER[0]


def stem(word: str) -> str:
    """The Snowball (Russian) stem of a lower-case word."""
    with _LOCK:
        return _STEMMER.stemWord(word)


@lru_cache(maxsize=8192)
def reading(word: str) -> Reading | None:
    """The Russian reading of a lower-case Cyrillic word, or None when it is no word of the dictionary.

    A proper name in the plural is taken for no Russian word either: a reader seldom asks for one,
    and Uzbek words read so (тарихи, "its history", is the plural of a rare first name Тарих).  Such
    words, and those the dictionary does not know, are matched as typed, as Uzbek words are.
    """
    # the likeliest reading the dictionary knows, a name in the plural left out (семенов: Семёнов, not Семёны)
    known = [p for p in _analyser().parse(word) if p.is_known and not (_PROPER & p.tag.grammemes and "plur" in p.tag)]
    if not known:
        return None
    top = known[0]
    proper = bool(_PROPER & top.tag.grammemes)
    # a name's plural forms are other names' singular ones (Петров, of Пётр and the surname): left out
    forms = _spellings(f.word for f in top.lexeme if not (proper and "plur" in f.tag))
    nouns: list[str] = []
    lemmas = [top.normal_form]
    if top.tag.POS in ("ADJF", "ADJS"):
        for noun in _nouns_of(top.normal_form):
            lemmas.append(noun.normal_form)
            nouns += _spellings(f.word for f in noun.lexeme)
    return Reading("" if proper else stem(word), forms, tuple(dict.fromkeys(nouns)), tuple(dict.fromkeys(lemmas)))


@lru_cache(maxsize=8192)
def normal_forms(word: str) -> tuple[str, ...]:
    """Every normal form the analyser gives a lower-case word, known or guessed from its ending (навоийская:
    навоийский), ё also written е: what a list of names and adjectives is matched against."""
    return _spellings(p.normal_form for p in _analyser().parse(word))


def _spellings(words) -> tuple[str, ...]:  # noqa: ANN001 (an iterable of str)
    out: dict[str, None] = {}
    for w in words:
        out[w] = None
        out[w.replace("ё", "е")] = None
    return tuple(out)


def _nouns_of(adjective: str) -> list[pymorphy3.analyzer.Parse]:
    """The nouns the dictionary knows that a relational adjective (its lemma) is made from, at most two."""
    found = []
    for ending, replacements in _DERIVED:
        if not adjective.endswith(ending) or len(adjective) - len(ending) < 3:
            continue
        base = adjective[: -len(ending)]
        for replacement in replacements:
            guess = _guess(base, replacement)
            if guess is None:
                continue
            for p in _analyser().parse(guess):
                if p.is_known and p.tag.POS == "NOUN" and p.normal_form == guess:
                    found.append(p)
                    break
            if len(found) == 2:
                return found
        if found:
            return found
    return found


def _guess(base: str, replacement: str) -> str | None:
    """``base`` with one of ``_DERIVED``'s replacements: ``-ин+а`` drops ин and adds а, ``ч>к+а`` alternates."""
    if replacement.startswith("-"):
        drop, _, add = replacement[1:].partition("+")
        return base[: -len(drop)] + add if base.endswith(drop) else None
    if ">" in replacement:
        change, _, add = replacement.partition("+")
        old, _, new = change.partition(">")
        return base[:-1] + new + add if base.endswith(old) and _ALTERNATING.get(old) == new else None
    return base + replacement
