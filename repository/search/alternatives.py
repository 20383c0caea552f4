"""What else a word of a query may be written as, so that a reader finds records however either was typed.

``expand`` puts beside each word a reader typed (outside quotes, in any text field) its alternatives,
joined to it by OR:

- a Russian word (one the dictionary knows, in whichever script it was typed): its Snowball stem
  instead of the word, the forms of its lemma a stem cannot reach (Петр: Пётр; льва: лев), and for
  an adjective the forms of the noun it is made from (хорезмская: Хорезм, Хорезма);
- a place of Uzbekistan: its other names (Ташкент: Toshkent, Tashkent; Навои: Кермине);
- е and ё as one letter after a consonant (Петров, Семёнов), as Russian print omits the dots;
- Turkish ş and ç read as Uzbek sh and ch too (``Çolpon``: Choʻlpon), since the query's language is
  not known;
- in a query typed in Cyrillic without any of ў қ ғ ҳ (a Russian keyboard has none of them), у, к, х
  and г read as those too (``узбекистон``: Ўзбекистон).

The rules read the word's language, not its script: a word is looked up in the Russian dictionary as
typed, or read in Cyrillic by ``fold.to_cyrillic`` when typed in Latin, so an Uzbek word finds the
same records in either script (тарихи and tarixi are no Russian words, библиотеки and biblioteki
are).  Only the alternatives the index holds are kept (``Backend.known``): a query stays as small as
the index allows, and the keyboard's letters, each of which doubles a word's readings, stay bounded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import replace

from repository.search import places, russian
from repository.search.fold import UZBEK_READING, fold, to_cyrillic
from repository.search.query import LOOKUP_FIELDS, MAX_WORDS, Query, Term

#: (word, matched as a prefix) pairs -> those the index holds (a prefix: a word of the index begins so)
Known = Callable[[list[tuple[str, bool]]], set[tuple[str, bool]]]

_UZBEK_LETTERS = frozenset("ўқғҳЎҚҒҲ")
_CYRILLIC_WORD = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяўқғҳ")
_KEYBOARD = {"у": "ў", "к": "қ", "х": "ҳ"}  # г and ғ fold alike: no reading to add
_KEYBOARD_LETTERS = 6  # a word's first six such letters are read both ways: at most 64 readings
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
_NOT_PROSE = LOOKUP_FIELDS | {"other"}
# of one word, beside it: on Elasticsearch each is two clauses in each of the 15 fields, and a query may
# have 1,024 clauses (OpenSearch's default indices.query.bool.max_clause_count)
MAX_ALTERNATIVES = 8


def expand(query: Query, known: Known) -> Query:
    """``query`` with each typed word's alternatives beside it, those the index holds (``known``)."""
    keyboard = _typed_on_a_russian_keyboard(query)
    plans: dict[Term, tuple[Term, list[Term]]] = {}
    for term in (*query.positive_terms(), *query.excluded):
        if term not in plans:
            plans[term] = _plan(term, keyboard)
    asked = sorted({(t.words[0], t.prefix) for _, candidates in plans.values() for t in candidates})
    present = known(asked) if asked else set()

    # the query and its alternatives stay within MAX_WORDS terms, so that the engine takes the query
    # (query.MAX_WORDS): the words first, then each word's alternatives in the query's order
    room = MAX_WORDS - len(plans)
    kept: dict[Term, list[Term]] = {}
    for term, (_, candidates) in plans.items():
        kept[term] = [t for t in candidates if (t.words[0], t.prefix) in present][: max(0, min(room, MAX_ALTERNATIVES))]
        room -= len(kept[term])

    def widened(term: Term) -> list[Term]:
        return [plans[term][0], *kept[term]]

    groups = [tuple(dict.fromkeys(t for term in group for t in widened(term))) for group in query.groups]
    excluded = list(dict.fromkeys(t for term in query.excluded for t in widened(term)))
    return replace(query, groups=groups, excluded=excluded)


def _typed_on_a_russian_keyboard(query: Query) -> bool:
    """Cyrillic words, and none of the letters only an Uzbek keyboard has (in a phrase either)."""
    typed = query.text or ""
    return any(ch.lower() in _CYRILLIC_WORD for ch in typed) and not _UZBEK_LETTERS & set(typed)


def _plan(term: Term, keyboard: bool) -> tuple[Term, list[Term]]:
    """The term to search instead of ``term`` (a Russian word's stem), and the alternatives to ask the index for."""
    if not term.typed or term.phrase or len(term.words) != 1 or term.field in _NOT_PROSE:
        return term, []
    typed, folded = term.typed, term.words[0]
    cyrillic = _in_cyrillic(typed)
    reading = russian.reading(cyrillic) if cyrillic and not _UZBEK_LETTERS & set(cyrillic) else None
    first = folded
    if reading and reading.stem:
        stem = fold(reading.stem)
        if len(stem) >= 3 and folded.startswith(stem):  # a prefix match of the stem finds the word's forms
            first = stem
    prefixes: list[str] = [first]
    exact: list[str] = []
    if reading:
        exact += [fold(w) for w in (*reading.forms, *reading.nouns)]
        lemmas = reading.lemmas
    else:
        lemmas = russian.normal_forms(cyrillic) if cyrillic else ()
    prefixes += places.names(folded, lemmas)
    prefixes += _yo(first)
    if UZBEK_READING.search(typed):
        prefixes.append(fold(typed, uzbek=True))
    if keyboard and cyrillic and any(ch.lower() in _CYRILLIC_WORD for ch in typed):
        prefixes += _keyboard_readings(typed.lower())
    prefixes = list(dict.fromkeys(p for p in prefixes if p))
    exact = [w for w in dict.fromkeys(exact) if w and not w.startswith(tuple(prefixes))]
    alternatives = [_like(term, p, prefix=True) for p in prefixes[1:] if not p.startswith(first)]
    alternatives += [_like(term, w, prefix=False) for w in exact]
    return _like(term, first, prefix=True, typed=term.typed, alternative=False), alternatives


def _like(term: Term, word: str, prefix: bool, typed: str = "", alternative: bool = True) -> Term:
    return Term(term.field, (word,), phrase=False, prefix=prefix, typed=typed, alternative=alternative)


def _in_cyrillic(typed: str) -> str:
    """The word in lower-case Cyrillic (Latin read by the Uzbek rules), or '' if it has letters of neither."""
    word = typed.lower() if any(ch.lower() in _CYRILLIC_WORD for ch in typed) else to_cyrillic(typed).lower()
    return word if word and all(ch in _CYRILLIC_WORD for ch in word) else ""


def _yo(folded: str) -> Iterable[str]:
    """The word with one ё after a consonant written е, or е written ё (petr: pyotr; semyonov: semenov)."""
    for i in range(1, len(folded)):
        if folded[i - 1] not in _CONSONANTS:
            continue
        if folded.startswith("yo", i):
            yield folded[:i] + "e" + folded[i + 2 :]
        elif folded[i] == "e":
            yield folded[:i] + "yo" + folded[i + 1 :]


def _keyboard_readings(word: str) -> list[str]:
    """The word's readings with у, к, х standing for ў, қ, ҳ (its first six of them), folded."""
    where = [i for i, ch in enumerate(word) if ch in _KEYBOARD][:_KEYBOARD_LETTERS]
    out = []
    for choice in itertools.product((False, True), repeat=len(where)):
        letters = list(word)
        for i, uzbek in zip(where, choice, strict=True):
            if uzbek:
                letters[i] = _KEYBOARD[letters[i]]
        out.append(fold("".join(letters)))
    return out[1:]  # the first is the word as typed
