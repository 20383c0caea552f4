"""The search key of a text: Uzbek Cyrillic read as Latin, apostrophes, case and diacritics folded.

Uzbek is written in two scripts, and its Latin letters oʻ and gʻ with five kinds of apostrophe (or
none, or as ş/ç/ö/ğ on Turkish keyboards).  A reader must find ``Oʻzbekiston tarixi`` by typing
``ўзбекистон тарихи``, ``o'zbekiston`` or ``ozbekiston``.  So every text and every query is folded
the same way:

1. Cyrillic to Latin by the 1995 rules (Oʻzbekiston Respublikasi Vazirlar Mahkamasining 339-son
   qarori), with their context rules: е is ``ye`` at the start of a word and after a vowel (ер →
   yer, поезд → poyezd), else ``e``; ц is ``s`` at the start of a word and after a consonant (цирк →
   sirk), ``ts`` after a vowel (милиция → militsiya); сҳ is ``sʼh`` (not ш); ъ is the tutuq
   belgisi ʼ, ь is dropped.  Russian letters the Uzbek alphabet lacks (щ, ы) get their usual
   readings.
2. Turkish-style ş, ç, ğ, ö to sh, ch, gʻ, oʻ.
3. Lower case; diacritics dropped (é → e, ñ → n).
4. Every apostrophe (ʻ ʼ ' ` ‘ ’) dropped: oʻ, o' and o are one letter to a search.
"""

from __future__ import annotations

import re
import unicodedata

_VOWELS = set("аеёиоуэюяўыАЕЁИОУЭЮЯЎЫ")
_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ё": "yo", "ж": "j", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "x", "ч": "ch", "ш": "sh", "ъ": "ʼ", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ў": "oʻ", "қ": "q", "ғ": "gʻ", "ҳ": "h", "щ": "shch", "ы": "i",
    # Kazakh and Karakalpak letters found in the region's catalogues, by their Latin readings
    "ә": "a", "ө": "o", "ү": "u", "ң": "ng", "і": "i", "ұ": "u",
}  # fmt: skip
_TURKISH = str.maketrans({"ş": "sh", "ç": "ch", "ğ": "gʻ", "ö": "oʻ", "ı": "i"})
_TURKISH_LETTERS = re.compile("[şçğöı]")
_APOSTROPHES = re.compile("[\u02bb\u02bc'`\u2018\u2019\u02bf\u02be]")


def to_latin(text: str) -> str:
    """Uzbek (and Russian) Cyrillic in Latin letters by the 1995 rules, case kept."""
    if not any("\u0400" <= ch <= "\u04ff" for ch in text):
        return text
    out: list[str] = []
    previous = ""
    for i, ch in enumerate(text):
        low = ch.lower()
        if low == "е":
            latin = "ye" if (not previous.isalpha() or previous in _VOWELS or previous in "ъьЪЬ") else "e"
        elif low == "ц":
            latin = "ts" if previous in _VOWELS else "s"
        elif low == "ҳ" and previous.lower() == "с":
            latin = "ʼh"  # сҳ: s and h, not the digraph sh
        elif low in _LETTERS:
            latin = _LETTERS[low]
        else:
            out.append(ch)
            previous = ch
            continue
        if ch != low and latin:  # upper case: the first letter (ЁШ -> YoSh is folded away anyway)
            following = text[i + 1 : i + 2]
            latin = latin.upper() if following.isupper() else latin[0].upper() + latin[1:]
        out.append(latin)
        previous = ch
    return "".join(out)


# fold's own path to the same Latin, for lower-case text: one regex pass for the context rules, then a
# table; about five times faster than ``to_latin``'s loop, which stays the readable statement of the rules
_VOWEL_CLASS = "аеёиоуэюяўы"
# each rule begins with its letter, so the regex engine skips to the next е, ц or с (a pattern that
# began with its lookbehind was tried at every position of the text: four times slower)
_CONTEXT = re.compile(rf"е(?:(?<![^\W\d_]е)|(?<=[{_VOWEL_CLASS}ъь]е))|ц(?<=[{_VOWEL_CLASS}]ц)|сҳ")
_CONTEXT_LATIN = {"е": "ye", "ц": "ts", "сҳ": "sʼh"}
_LOWER_TABLE = str.maketrans({**_LETTERS, "е": "e", "ц": "s"})
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def fold(text: str) -> str:
    """The search key of ``text``: Latin, lower case, no diacritics, no apostrophes."""
    text = text.lower()
    if _CYRILLIC.search(text):
        text = _CONTEXT.sub(lambda m: _CONTEXT_LATIN[m.group()], text).translate(_LOWER_TABLE)
    if _TURKISH_LETTERS.search(text):  # rare: translating every text cost 40% of folding
        text = text.translate(_TURKISH)
    text = _APOSTROPHES.sub("", text)  # before the test below: most Uzbek Latin is ASCII without them
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# A word: letters and digits, with the apostrophes that belong inside Uzbek words (oʻ, gʻ, tutuq belgisi)
WORD = re.compile(r"\w(?:[\w\u02bb\u02bc'`\u2018\u2019\u02bf\u02be]*\w)?")


_FOLDED_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The folded words of ``text``, as both the index and queries see them (``Oʻzbek-tili`` -> ozbek, tili).

    Folding drops apostrophes, so folding the whole text and splitting it gives the words ``WORD``
    finds, each folded: ``oʻzbek`` stays one word.
    """
    return _FOLDED_WORD.findall(fold(text)) if text else []
