"""Addresses the site builds from what a request says: always a path on this site.

Every link or redirect made from the request's path or arguments (the language links, the pages of
a result or a collection, a search without its filters, the reader's pages, a redirect) is written
by ``site_path``.  A browser reads more as "another site" than the path looks like (WHATWG URL):
``//host`` and ``///host``, ``/\\host`` (a backslash is a slash in an http(s) URL), ``/<tab>/host``
(tabs and newlines are dropped anywhere), a leading space.  So the path is percent-encoded whole,
leaving only the characters RFC 3986 allows in a path, and never begins with two slashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from flask import Response, request

# RFC 3986 pchar and "/", without "%": what stays as it is in a path; everything else is %-encoded
_PATH_CHARS = "/-._~!$&'()*+,;=:@"


def site_path(path: str, query: Mapping[str, Any] | Iterable[tuple[str, str]] | str | None = None) -> str:
    """``path`` (decoded, as ``request.path`` is) and ``query`` as an address on this site, and nowhere else.

    ``query`` is a mapping (a list value repeats its argument), pairs, or a query string as found in a URL.
    """
    encoded = "/" + quote(path, safe=_PATH_CHARS).lstrip("/")  # one slash: "//host" would be a host
    if isinstance(query, str):
        query = parse_qsl(query, keep_blank_values=True)
    text = urlencode(query or {}, doseq=True)
    return encoded + ("?" + text if text else "")


def this_path() -> str:
    """The path of this request, decoded (the app's prefix included), as ``site_path`` takes it."""
    return request.script_root + request.path


def local_redirects(response: Response) -> Response:
    """A redirect's ``Location`` as a path on this site (werkzeug's own, for ``/api//search``, name the Host header's
    host, and a shared cache may keep a 308 for everyone)."""
    if response.location:
        where = urlsplit(response.location)
        response.location = site_path(unquote(where.path), where.query)
    return response
