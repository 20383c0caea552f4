"""Human names, in the interface language, for what the catalogue stores as codes.

Dublin Core elements, kinds of material, facets, sort orders and access levels are stored and
exchanged as codes (``creator``, ``article``, ``rus``); a reader sees them named here.  Language
names come from the CLDR data Babel carries, so they need no catalogue of their own.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import lazy_gettext as _l

from repository.web.numbers import whole

ELEMENTS = {
    "title": _l("Title"), "creator": _l("Author"), "subject": _l("Subject"), "description": _l("Description"),
    "publisher": _l("Publisher"), "contributor": _l("Contributor"), "date": _l("Date"), "type": _l("Type"),
    "format": _l("Format"), "identifier": _l("Identifier"), "source": _l("Source"), "language": _l("Language"),
    "relation": _l("Related item"), "coverage": _l("Coverage"), "rights": _l("Rights"),
}  # fmt: skip
KINDS = {
    "book": _l("Book"), "article": _l("Article"), "serial": _l("Serial"), "thesis": _l("Thesis"),
    "manuscript": _l("Manuscript"), "music": _l("Music"), "map": _l("Map"), "video": _l("Video"),
    "sound": _l("Sound recording"), "image": _l("Image"), "software": _l("Software"), "object": _l("Object"),
    "dataset": _l("Dataset"), "text": _l("Text"), "other": _l("Other"),
}  # fmt: skip
FACETS = {
    "type": _l("Type"), "lang": _l("Language"), "decade": _l("Decade"), "subject": _l("Subject"),
    "set": _l("Collection"), "fulltext": _l("Full text"),
}  # fmt: skip
SORTS = {"relevance": _l("Relevance"), "year": _l("Newest first"), "title": _l("Title A–Z")}
ACCESS = {"open": _l("Open"), "restricted": _l("Restricted"), "embargoed": _l("Embargoed")}
YES_NO = {"yes": _l("Has full text"), "no": _l("No full text")}

# why a query cannot be read, by QueryError.kind (its English message is the fallback)
QUERY_ERRORS = {
    "no_field": _l("there is no field %(name)s to search; the fields are: %(names)s"),
    "no_facet": _l("there is no facet %(name)s; the facets are: %(names)s"),
    "narrows": _l("%(name)s: narrows a search, and cannot be negated or joined by OR"),
    "only_excluded": _l("%(text)s: say what to find, not only what to leave out"),
    "year": _l("year:%(value)s: give a year (1995) or a range (1990-2000, 1990-, -2000)"),
    "unreadable": _l("the words or signs of %(text)s do not make a query; try fewer signs or quotes"),
    "refused": _l("the search engine refused the query; try fewer signs or quotes"),
    "number": _l("%(name)s must be a whole number from %(low)s to %(high)s"),
    "too_long": _l("a query has at most %(limit)s characters, and this one has %(length)s"),
    "too_many_words": _l("a query has at most %(limit)s words, and this one has %(count)s"),
}


def query_error(exc: Exception) -> str:
    """Why a query cannot be read, in the interface language (the English message when no kind says)."""
    message = QUERY_ERRORS.get(getattr(exc, "kind", ""))
    return str(message) % exc.params if message is not None else str(exc)


# MARC and DC records name languages by ISO 639-2 (bibliographic or terminology); CLDR by 639-1
_ISO639_2 = {
    "uzb": "uz", "rus": "ru", "eng": "en", "kaa": "kaa", "tgk": "tg", "taj": "tg", "kaz": "kk", "kir": "ky",
    "tuk": "tk", "tur": "tr", "aze": "az", "tat": "tt", "ara": "ar", "per": "fa", "fas": "fa", "ger": "de",
    "deu": "de", "fre": "fr", "fra": "fr", "chi": "zh", "zho": "zh", "jpn": "ja", "kor": "ko", "spa": "es",
    "ita": "it", "ukr": "uk", "bel": "be", "pol": "pl", "heb": "he", "hin": "hi", "urd": "ur", "chg": "chg",
}  # fmt: skip


def language_name(code: str) -> str:
    """The name of a language (an ISO 639 code) in the interface language; the code when unknown."""
    short = _ISO639_2.get(code.lower(), code.lower())
    try:
        locale = Locale.parse(str(get_locale()))
    except (UnknownLocaleError, ValueError):
        return code
    return (locale.languages.get(short) or code).capitalize() if short else code


_SIZES = ((1 << 30, _l("%(size)s GB")), (1 << 20, _l("%(size)s MB")), (1 << 10, _l("%(size)s KB")))


def file_size(size: int) -> str:
    """A file's size as a reader says it, in the interface language (``1,5 MB``, ``620 bytes``)."""
    for unit, label in _SIZES:
        if size >= unit:
            return str(label) % {"size": format_decimal(round(size / unit, 1))}
    return ngettext("%(num)s byte", "%(num)s bytes", size)


def facet_value(facet: str, value: str, set_names: dict[str, str] | None = None) -> str:
    """How a facet value is shown: a kind, language, collection or yes/no by name; others as they are."""
    if facet == "set":
        return (set_names or {}).get(value, value)
    if facet == "type":
        return str(KINDS.get(value, value))
    if facet == "lang":
        return language_name(value)
    if facet == "fulltext":
        return str(YES_NO.get(value, value))
    if facet == "decade":
        start = whole(value)
        return f"{value}–{start + 9}" if start is not None else value
    return value
