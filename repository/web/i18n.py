"""The interface languages: Uzbek in Latin script (the default) and in Cyrillic, Russian and English.

Messages live in gettext catalogues (``web/translations/<locale>/LC_MESSAGES/messages.po``, the
source kept in git).  They are compiled when the app starts into ``VAR_DIR/translations`` whenever
a ``.po`` is newer than its ``.mo``, so every install (a clone, a wheel, a container) serves the
catalogues it carries without a separate build step; ``make messages`` extracts and updates them.

A page's language is ``?lang=`` (remembered in a cookie), then the cookie, then the browser's
``Accept-Language``, then Uzbek Latin.  An answer that spoke a language so chosen says that it
varies on the cookie and on Accept-Language, so that a cache keeps one copy per language; and the
cookie is set only on such an answer, never on one a shared cache may keep for everyone (a QR
code, a download), which would hand one reader's choice to the next.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale

SOURCE = Path(__file__).parent / "translations"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    """An interface language: its gettext locale, its BCP 47 tag and its name in itself."""

    locale: str
    tag: str
    name: str


LANGUAGES = (
    Language("uz_Latn", "uz-Latn", "Oʻzbekcha"),
    Language("uz_Cyrl", "uz-Cyrl", "Ўзбекча"),
    Language("ru", "ru", "Русский"),
    Language("en", "en", "English"),
)
DEFAULT = LANGUAGES[0]
_BY_NAME = {name.lower(): lang for lang in LANGUAGES for name in (lang.locale, lang.tag)}


def init(app: Flask, var_dir: Path) -> None:
    """Compile the catalogues when needed and let Flask-Babel choose each request's language."""
    compiled = compile_catalogues(var_dir / "translations")
    Babel(app, locale_selector=_chosen_locale, default_translation_directories=str(compiled))
    app.context_processor(lambda: {"language": current(), "languages": LANGUAGES})
    app.after_request(_remember)


def compile_catalogues(target: Path) -> Path:
    """``SOURCE``'s ``.po`` files compiled into ``target`` (only those changed since the last time)."""
    for po in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(SOURCE).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as src:
            catalogue = read_po(src)
        # each process its own partial file: several workers start, and compile, at once
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            write_mo(out, catalogue)
        partial.replace(mo)  # a reader never sees half a file (several workers start at once)
    return target


def language_of(value: str | None) -> Language | None:
    """The interface language a ``?lang=``, cookie or Accept-Language value names, if any."""
    if not value:
        return None
    value = value.strip().replace("_", "-").lower()
    if value in _BY_NAME:
        return _BY_NAME[value]
    primary, _, rest = value.partition("-")
    if primary == "uz":  # uz-Cyrl-UZ, uz-UZ: Latin unless Cyrillic is asked for
        return LANGUAGES[1] if "cyrl" in rest.split("-") else LANGUAGES[0]
    return _BY_NAME.get(primary)


def current() -> Language:
    """The language of this request."""
    return _BY_NAME.get(str(get_locale()).lower(), DEFAULT)


def _chosen_locale() -> str:
    g.kutubxona_language_chosen = True  # asked once per request, by the first word translated
    asked = language_of(request.args.get("lang")) or language_of(request.cookies.get(COOKIE))
    if asked is None:
        for value, _quality in request.accept_languages:  # best first
            asked = language_of(value)
            if asked:
                break
    return (asked or DEFAULT).locale


def _remember(response: Response) -> Response:
    if not g.pop("kutubxona_language_chosen", False):
        return response  # nothing here speaks a language (a QR code, a file, JSON, OAI-PMH)
    response.vary.update(("Cookie", "Accept-Language"))
    # a language chosen with ?lang= stays chosen on the next pages
    chosen = language_of(request.args.get("lang"))
    if chosen is not None and request.cookies.get(COOKIE) != chosen.locale and not shared_cacheable(response):
        response.cache_control.private = True  # (an answer without Cache-Control, else a cache might keep it)
        response.set_cookie(COOKIE, chosen.locale, max_age=COOKIE_AGE, samesite="Lax")
    return response


def shared_cacheable(response: Response) -> bool:
    """True when a shared cache may keep ``response`` for everyone (RFC 9111 3 and 5.2.2)."""
    cc = response.cache_control
    if cc.private or cc.no_store:
        return False
    return bool(cc.public or cc.max_age is not None or cc.s_maxage is not None or response.expires)
