"""Numbers read from a request: one reader, strict and bounded, for every page, size and byte position.

``int()`` takes more than an address should carry (signs, spaces, ``1_000``, digits of other
scripts such as ``٣``) and refuses some of what ``str.isdigit()`` lets through (``²``) or a number
of more than 4,300 digits; and a number given to the database must fit its 64-bit integers.  So a
number here is ASCII digits only, a longer one than ``LIMIT`` is read as ``LIMIT`` (larger than any
page or file), and a request's argument outside its bounds is a 400 that says the bounds.
"""

from __future__ import annotations

import re

from flask import request

from repository.errors import KutubxonaError

LIMIT = 10**18  # within SQLite's and PostgreSQL's 64-bit integers, whatever a caller multiplies it by
MAX_PAGE = 1_000_000  # pages of any listing: 20 million search hits or album cards, far past any catalogue
_DIGITS = re.compile(r"[0-9]+")


class BadNumber(KutubxonaError):
    """An argument that should be a whole number within bounds and is not (HTTP 400)."""

    kind = "number"  # its message in the interface language: labels.QUERY_ERRORS

    def __init__(self, name: str, raw: str, low: int, high: int) -> None:
        shown = raw if len(raw) <= 24 else raw[:20] + "…"
        super().__init__(f"{name} must be a whole number from {low} to {high}, not {shown!r}")
        self.params = {"name": name, "low": low, "high": high}


def whole(text: str | None) -> int | None:
    """The number ``text`` writes in ASCII digits (at most ``LIMIT``), or None when it is anything else."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    return LIMIT if len(digits) > len(str(LIMIT)) - 1 else int(digits)


def argument(name: str, default: int, low: int, high: int) -> int:
    """``?name=`` as a whole number from ``low`` to ``high``; ``default`` when it is missing or empty."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = whole(raw)
    if value is None or not low <= value <= high:
        raise BadNumber(name, raw, low, high)
    return value


def page_argument() -> int:
    """``?page=``: 1 when it is missing, a 400 when it is no page number (a page past the last is the caller's 404)."""
    return argument("page", 1, 1, MAX_PAGE)
