"""Every link and redirect the site builds from a request stays on the site, read as a browser reads it:
language links, pages of results, a search without its filters, the reader's pages, redirects."""

from __future__ import annotations

import http.client
import re
import urllib.parse
from pathlib import Path

import pytest
from lxml import html

from tests.conftest import BASE_URL, REPO_ID, Cli
from tests.helpers import import_json, marc, write
from tests.web.test_site import get

HOSTILE = [
    "/%5Cevil.example/phish",  # "/\evil.example": a backslash is a slash to a browser
    "/%5C%5Cevil.example/phish",
    "/%09/evil.example/phish",  # a browser drops tabs and newlines: "//evil.example"
    "/%0A/evil.example/phish",
    "/%0D%0A%5Cevil.example",
    "/%2F%2Fevil.example/phish",
    "//evil.example/phish",
    "///evil.example/phish",
    "/http://evil.example/phish",
    "/https:%5C%5Cevil.example",
    "/%20/evil.example",
    "/records/%5C%5Cevil.example",
    "/collections/%5Cevil.example/album",
]


def browser_resolves(base: str, href: str) -> tuple[str, str]:
    """The scheme and host a browser goes to from ``base`` for ``href``, by the WHATWG URL standard's rules:
    C0 controls and spaces at either end are trimmed and tabs and newlines removed anywhere; in an http(s)
    URL a backslash is a slash, and any number of slashes may stand before the host."""
    href = re.sub(r"[\t\n\r]", "", href.strip("".join(map(chr, range(33))))).replace("\\", "/")
    origin = urllib.parse.urlsplit(base)
    scheme, colon, rest = href.partition(":")
    if colon and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) and "/" not in scheme:
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            return scheme, ""  # javascript:, mailto: and the like: not a page of this site
        if scheme != origin.scheme or rest.startswith("//"):
            return scheme, rest.lstrip("/").split("/")[0].split("?")[0].split("#")[0]
        href = rest  # "http:x" from an http page is a relative address
    if href.startswith("//"):
        return origin.scheme, href.lstrip("/").split("/")[0].split("?")[0].split("#")[0]
    where = urllib.parse.urlsplit(urllib.parse.urljoin(base, href))
    return where.scheme, where.netloc


def links(body: bytes) -> list[str]:
    doc = html.fromstring(body)
    return [v for attr in ("href", "src", "action") for v in doc.xpath(f"//@{attr}")]


def assert_on_site(base: str, page: str, body: bytes) -> list[str]:
    """Every address in ``body`` leads to this site (the live server, or its configured BASE_URL)."""
    found = links(body)
    assert found, page
    ours = {browser_resolves(base + "/", "/"), browser_resolves(BASE_URL + "/", "/")}
    for href in found:
        assert browser_resolves(base + "/", href) in ours, (page, href)
    return found


def raw_get(live: str, target: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """A GET of ``target`` exactly as written (no client tidies it), with another Host if asked."""
    origin = urllib.parse.urlsplit(live)
    conn = http.client.HTTPConnection(origin.hostname, origin.port, timeout=10)
    conn.putrequest("GET", target, skip_host=host is not None, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    resp = conn.getresponse()
    try:
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def site(cli: Cli, live: str, tmp_path: Path) -> str:
    cli("sets", "add", "tarix", "Tarix fondi")
    import_json(cli, write(tmp_path / "a.mrc", *(marc(f"B{n}", f"Tarix {n}") for n in range(1, 26))), "--set", "tarix")
    return live


@pytest.mark.parametrize("target", HOSTILE)
def test_the_links_of_a_page_no_route_matched_stay_on_the_site(site: str, target: str):
    status, _, body = raw_get(site, target + "?lang=ru")
    assert status == 404, target
    found = assert_on_site(site, target, body)
    # the language links lead back to the same address, in another language
    [english] = [h for h in found if h.endswith("lang=en")]
    status, _, again = raw_get(site, english)
    assert status == 404 and html.fromstring(again).xpath("/html/@lang") == ["en"], english


@pytest.mark.parametrize(
    "target",
    [
        "/search?q=tarix&type=book&page=2&sort=title",  # pages, facets, "search without the filters"
        "/search?q=%5C%5Cevil.example&type=nothing",  # nothing found: the search without filters
        "/collections/tarix?page=2",
        "/collections/tarix/album",
        "/records/B1",
    ],
)
def test_the_links_of_pages_built_from_their_arguments_stay_on_the_site(site: str, target: str):
    status, _, body = raw_get(site, target)
    assert status == 200, target
    assert_on_site(site, target, body)


@pytest.mark.parametrize("target", ["/api//search?q=tarix", "/collections//tarix", f"/records/oai:{REPO_ID}:B1"])
def test_a_redirect_is_a_path_on_this_site_whatever_the_host_header_says(site: str, target: str):
    status, headers, _ = raw_get(site, target, host="evil.example")
    assert status in (301, 302, 303, 307, 308), target
    location = headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert browser_resolves(BASE_URL + "/", location) == ("http", "kutubxona.test"), location
    assert raw_get(site, location)[0] == 200


def test_the_search_without_filters_keeps_the_query_and_drops_every_filter(site: str):
    doc = html.fromstring(get(site + "/search?q=tarix&type=map&language=rus&decade=1990&lang=en")[2])
    [unfiltered] = doc.xpath("//a[normalize-space()='Search again without the filters']/@href")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(unfiltered).query)
    assert urllib.parse.urlsplit(unfiltered).path == "/search" and query == {"q": ["tarix"]}
