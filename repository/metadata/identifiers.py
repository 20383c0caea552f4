"""Identifiers: oai-identifier syntax (percent-encoding of local parts), ISBN and ISSN normalisation, DOIs."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

# OAI identifier guidelines: local-identifier = 1*( unreserved | reserved | escaped ),
# i.e. [a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]; anything else is %-encoded from its UTF-8 bytes.
_LOCAL_SAFE = "-_.!~*'();/?:@&=+$,"
OAI_ID = re.compile(r"^oai:[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+:[a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]+$")


def oai_identifier(repository_id: str, local_id: str) -> str:
    """``oai:{repository_id}:{local id}``, %-encoding what the syntax forbids (``%`` itself included)."""
    return f"oai:{repository_id}:{quote(local_id, safe=_LOCAL_SAFE)}"


def local_from_oai(repository_id: str, identifier: str) -> str | None:
    """The local identifier inside an OAI identifier of this repository, or None if it is not ours."""
    prefix = f"oai:{repository_id}:"
    if not identifier.startswith(prefix) or not OAI_ID.match(identifier):
        return None
    encoded = identifier[len(prefix) :]
    local = unquote(encoded)
    # identifiers are compared exactly (CHECKLIST 120): only the canonical encoding is ours
    if quote(local, safe=_LOCAL_SAFE) != encoded:
        return None
    return local


def record_path(local_id: str) -> str:
    """The URL path of a record's page."""
    return "/records/" + quote(local_id, safe="-_.!~*'():@&=+$,")


_ISBN_CHARS = re.compile(r"[0-9Xx][0-9Xx\- ]{8,16}[0-9Xx]")
_NOT_ISBN = re.compile(r"[^0-9Xx]")
_WEIGHTS_10 = range(10, 0, -1)
_WEIGHTS_13 = (1, 3) * 6 + (1,)
_DIGIT_VALUES = {**{str(n): n for n in range(10)}, "X": 10}  # an ISBN-10's X counts 10


def _weighted(digits: str, weights: Iterable[int]) -> int:
    """The weighted sum of a check digit's rule."""
    # by a table: a conditional per digit took half of an ISBN's normalising, which every import and reindex does
    return sum(map(operator.mul, weights, map(_DIGIT_VALUES.__getitem__, digits)))


def normalise_isbn(text: str) -> str | None:
    """ISBN-13 digits for an ISBN-10 or ISBN-13 found at the start of ``text`` (valid check digit only)."""
    match = _ISBN_CHARS.search(text or "")
    if not match:
        return None
    digits = _NOT_ISBN.sub("", match.group()).upper()
    if len(digits) == 10 and "X" not in digits[:9]:
        if _weighted(digits, _WEIGHTS_10) % 11:
            return None
        core = "978" + digits[:9]
        return core + str((10 - _weighted(core, _WEIGHTS_13) % 10) % 10)
    if len(digits) == 13 and digits.isdigit():
        return None if _weighted(digits, _WEIGHTS_13) % 10 else digits
    return None


def isbn_forms(text: str) -> list[str]:
    """The ISBN-13 and (for 978 ones) ISBN-10 digits of an ISBN in ``text``: a query for either finds both."""
    isbn13 = normalise_isbn(text)
    if not isbn13:
        return []
    if not isbn13.startswith("978"):
        return [isbn13]
    core = isbn13[3:12]
    check = _weighted(core, _WEIGHTS_10) % 11
    digit = (11 - check) % 11
    return [isbn13, core + ("X" if digit == 10 else str(digit))]


_ISSN = re.compile(r"(\d{4})-?(\d{3}[\dXx])")


def normalise_issn(text: str) -> str | None:
    """``NNNN-NNNC`` for a valid ISSN found in ``text``."""
    match = _ISSN.search(text or "")
    if not match:
        return None
    digits = (match.group(1) + match.group(2)).upper()
    total = sum((8 - i) * int(c) for i, c in enumerate(digits[:7]))
    check = (11 - total % 11) % 11
    if digits[7] != ("X" if check == 10 else str(check)):
        return None
    return f"{digits[:4]}-{digits[4:]}"


# a DOI is "10." + a registrant code (digits, maybe dotted) + "/" + any suffix; written bare, after
# "doi:", or as a link to a resolver (doi.org, the older dx.doi.org), which percent-encodes it
_DOI = re.compile(r"(doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}(?:\.\d+)*/\S+)", re.IGNORECASE)


def doi_of(text: str) -> str | None:
    """The DOI that ``text`` is: bare (``10.1000/182``), after ``doi:``, or a doi.org link; else None."""
    text = (text or "").strip()
    if text[:4].lower() == "http":
        text = unquote(text)  # a link percent-encodes the DOI's own characters (10.1000%2F182)
    match = _DOI.fullmatch(text)
    return match.group(2) if match else None


_NOT_KEY = re.compile(r"[^0-9a-z]")


def doi_key(doi: str) -> str:
    """A DOI as one word, for search: its letters and digits after ``doi`` (``10.1000/ABC`` -> ``doi101000abc``).

    Searched as a phrase of its parts, ``10.1000/abc`` would also find ``10.1000/abc.2``; as one
    word it finds that DOI alone (DOIs are compared without regard to case).
    """
    return "doi" + _NOT_KEY.sub("", doi.lower())
