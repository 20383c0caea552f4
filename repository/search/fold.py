"""The search key of a text: Uzbek Cyrillic read as Latin, apostrophes, case and diacritics folded.

Uzbek is written in two scripts, and its Latin letters oʻ and gʻ with five kinds of apostrophe (or
none, or as ş/ç/ö/ğ on Turkish keyboards).  A reader must find ``Oʻzbekiston tarixi`` by typing
``ўзбекистон тарихи``, ``o'zbekiston`` or ``ozbekiston``.  So every text and every query is folded
the same way:

1. Invisible format characters (soft hyphen, zero-width space and joiners, the byte order mark,
   direction marks: Unicode's category Cf) are dropped, so a word with one inside is the same word.
2. Cyrillic to Latin by the 1995 rules (Oʻzbekiston Respublikasi Vazirlar Mahkamasining 339-son
   qarori), with their context rules: е is ``ye`` at the start of a word and after a vowel (ер →
   yer, поезд → poyezd), else ``e``; ц is ``s`` at the start of a word and after a consonant (цирк →
   sirk), ``ts`` after a vowel (милиция → militsiya); сҳ is ``sʼh`` (not ш); ъ is the tutuq
   belgisi ʼ, ь is dropped.  Russian letters the Uzbek alphabet lacks (щ, ы) get their usual
   readings.
3. In Uzbek text only (``uzbek=True``: a record in Uzbek, or of no stated language), Turkish-style
   ş, ç, ğ, ö read as sh, ch, gʻ, oʻ.  Everywhere else they are Turkish, Azerbaijani or other
   letters, folded to their base letters as every other diacritic is: ``Ayşe Çelik`` is ``ayse
   celik``.  (A query, whose language is unknown, is read both ways: see ``search.alternatives``.)
4. Lower case; diacritics dropped (é → e, ñ → n, ş → s), and the Latin letters that have no
   decomposition read as their base letters (ı → i, ø → o, ł → l, ß → ss ...).
5. Every apostrophe (ʻ ʼ ' ` ‘ ’) dropped: oʻ, o' and o are one letter to a search.
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
# ş and ç are the only two whose Uzbek reading differs from their base letter (ğ, ö and ı fold alike)
UZBEK_READING = re.compile("[şç]", re.IGNORECASE)
_APOSTROPHES = re.compile("[\u02bb\u02bc'`\u2018\u2019\u02bf\u02be]")
# Unicode's format characters (category Cf, as of Unicode 14): tests/search/test_fold.py checks this
# class against the running Python's unicodedata
INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
# Latin letters NFKD leaves whole (no base letter and a combining mark): their usual base letters
_UNDECOMPOSED = re.compile("[ıøłđħßæœþðŋə]")
_BASE = str.maketrans({"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ß": "ss", "æ": "ae", "œ": "oe",
                       "þ": "th", "ð": "d", "ŋ": "ng", "ə": "a"})  # fmt: skip


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


_FROM_LATIN = {
    "a": "а", "b": "б", "d": "д", "f": "ф", "g": "г", "h": "ҳ", "i": "и", "j": "ж", "k": "к", "l": "л", "m": "м",
    "n": "н", "o": "о", "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "x": "х", "y": "й",
    "z": "з", "sh": "ш", "ch": "ч", "yo": "ё", "yu": "ю", "ya": "я", "ye": "е",
}  # fmt: skip
_APOSTROPHE_CLASS = "\u02bb\u02bc'`\u2018\u2019\u02bf\u02be"
_LATIN_LETTER = re.compile(
    rf"(?i)(s[{_APOSTROPHE_CLASS}]h)|([og][{_APOSTROPHE_CLASS}])|sh|ch|y[oaue]|([{_APOSTROPHE_CLASS}])|[abd-vxyz]"
)
_LATIN_VOWELS = set("aeiouAEIOU")


def to_cyrillic(text: str) -> str:
    """Uzbek Latin in Cyrillic letters by the 1995 rules read backwards, case kept (``Oʻzbekiston`` -> Ўзбекистон).

    oʻ and gʻ (any apostrophe) are ў and ғ, another apostrophe the tutuq belgisi ъ, sʼh is сҳ, and e
    is э at the start of a word and after a vowel (where е would read ``ye``).  Letters the Uzbek
    alphabet lacks (c, w) are left as they are.
    """

    def letter(match: re.Match[str]) -> str:
        found = match.group()
        low = found.lower()
        if match.group(1):
            out = "сҳ"
        elif match.group(2):
            out = "ў" if low[0] == "o" else "ғ"
        elif match.group(3):
            out = "ъ"
        elif low == "e":
            previous = text[match.start() - 1] if match.start() else ""
            out = "э" if not previous.isalpha() or previous in _LATIN_VOWELS else "е"
        else:
            out = _FROM_LATIN[low]
        if found.isupper():  # SH -> Ш, and Sh -> Ш too: one Cyrillic letter
            return out.upper()
        return out[0].upper() + out[1:] if found[0].isupper() else out

    return _LATIN_LETTER.sub(letter, text)


# fold's own path to the same Latin, for lower-case text: one regex pass for the context rules, then a
# table; about five times faster than ``to_latin``'s loop, which stays the readable statement of the rules
_VOWEL_CLASS = "аеёиоуэюяўы"
# each rule begins with its letter, so the regex engine skips to the next е, ц or с (a pattern that
# began with its lookbehind was tried at every position of the text: four times slower)
_CONTEXT = re.compile(rf"е(?:(?<![^\W\d_]е)|(?<=[{_VOWEL_CLASS}ъь]е))|ц(?<=[{_VOWEL_CLASS}]ц)|сҳ")
_CONTEXT_LATIN = {"е": "ye", "ц": "ts", "сҳ": "sʼh"}
_LOWER_TABLE = str.maketrans({**_LETTERS, "е": "e", "ц": "s"})
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def fold(text: str, uzbek: bool = False) -> str:
    """The search key of ``text``: Latin, lower case, no diacritics, no apostrophes, nothing invisible.

    ``uzbek``: the text is (or may be) Uzbek, so Turkish-style ş and ç are its sh and ch.
    """
    text = text.lower()
    if text.isascii():  # most Latin text: only apostrophes to drop (two regex scans fewer than below)
        return text.replace("'", "").replace("`", "") if "'" in text or "`" in text else text
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    if _CYRILLIC.search(text):
        text = _CONTEXT.sub(lambda m: _CONTEXT_LATIN[m.group()], text).translate(_LOWER_TABLE)
    if uzbek and _TURKISH_LETTERS.search(text):  # rare: translating every text cost 40% of folding
        text = text.translate(_TURKISH)
    text = _APOSTROPHES.sub("", text)  # before the test below: most Uzbek Latin is ASCII without them
    if text.isascii():
        return text
    if _UNDECOMPOSED.search(text):
        text = text.translate(_BASE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def visible(text: str) -> str:
    """``text`` without its invisible format characters (soft hyphens, zero-width spaces ...)."""
    return _INVISIBLE.sub("", text)


# A word: letters and digits, with the apostrophes that belong inside Uzbek words (oʻ, gʻ, tutuq belgisi)
# and the invisible characters folding drops (a soft hyphen inside a word leaves it one word)
WORD = re.compile(rf"\w(?:[\w\u02bb\u02bc'`\u2018\u2019\u02bf\u02be{INVISIBLE}]*\w)?")


_FOLDED_WORD = re.compile(r"[^\W_]+")


def words(text: str, uzbek: bool = False) -> list[str]:
    """The folded words of ``text``, as both the index and queries see them (``Oʻzbek-tili`` -> ozbek, tili).

    Folding drops apostrophes and invisible characters, so folding the whole text and splitting it
    gives the words ``WORD`` finds, each folded: ``oʻzbek`` stays one word.
    """
    return _FOLDED_WORD.findall(fold(text, uzbek)) if text else []
