"""Numbers read from a request (pages, sizes, byte ranges, decades): a bad or huge one is a 400, a page past
the last a 404, never a 500 (a digit only ``str.isdigit()`` knows, a number too long for ``int()`` or for the
database's integers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers import import_json, marc, write
from tests.web.test_site import get

HUGE = "99999999999999999999999"  # past SQLite's 64-bit integers
LONG = "9" * 5000  # past the 4,300 digits int() reads
SUPERSCRIPT = "%C2%B2"  # "²": str.isdigit() says yes, int() says no


@pytest.fixture
def site(cli: Cli, live: str, tmp_path: Path) -> str:
    """Three records in set ``tarix`` (one page of a collection, one of its album) and a plain text file."""
    cli("sets", "add", "tarix", "Tarix fondi")
    records = [marc(f"B{n}", f"Tarix kitobi {n}") for n in range(1, 4)]
    import_json(cli, write(tmp_path / "a.mrc", *records), "--set", "tarix")
    (tmp_path / "matn.txt").write_text("0123456789" * 10)
    cli("attach", "B1", tmp_path / "matn.txt", "--ocr", "never")
    return live


@pytest.mark.parametrize(
    "path",
    [
        f"/search?q=tarix&page={SUPERSCRIPT}",
        f"/search?q=tarix&page={HUGE}",
        f"/search?q=tarix&page={LONG}",
        "/search?q=tarix&page=0",
        "/search?q=tarix&page=-1",
        "/search?q=tarix&page=%2B2",
        "/search?q=tarix&page=1.5",
        "/search?q=tarix&page=abc",
        f"/search/cite.ris?q=tarix&page={SUPERSCRIPT}",
        f"/search/cite.bib?q=tarix&page={HUGE}",
        f"/collections/tarix?page={HUGE}",
        f"/collections/tarix?page={SUPERSCRIPT}",
        f"/collections/tarix/album?page={LONG}",
        "/collections/tarix/album.pdf?page=9223372036854775807",
        "/collections/tarix/album.pdf?page=0",
        f"/records/B1/files/matn.txt/read?page={HUGE}",
    ],
)
def test_a_number_no_page_can_have_is_a_400_page(site: str, path: str):
    status, headers, body = get(site + path + "&lang=en")
    assert status == 400, (path, body[:300])
    assert headers["Content-Type"].startswith("text/html") and b"Traceback" not in body
    assert b"page must be a whole number from 1 to" in body


@pytest.mark.parametrize(
    "path",
    ["/collections/tarix?page=2", "/collections/tarix/album?page=2", "/collections/tarix/album.pdf?page=2",
     "/records/B1/files/matn.txt/read?page=2"],
)  # fmt: skip
def test_a_page_past_the_last_is_a_404(site: str, path: str):
    status, _, body = get(site + path)
    assert status == 404 and b"Traceback" not in body, path
    assert get(site + path.replace("page=2", "page=1"))[0] == 200, path


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"page={SUPERSCRIPT}", "page must be a whole number from 1 to 1000000"),
        (f"page={HUGE}", "page must be a whole number from 1 to 1000000"),
        (f"page={LONG}", "page must be a whole number from 1 to 1000000"),
        (f"size={SUPERSCRIPT}", "size must be a whole number from 1 to 100"),
        ("size=%20%2B5", "size must be a whole number from 1 to 100"),
        ("size=1_0", "size must be a whole number from 1 to 100"),
        ("size=101", "size must be a whole number from 1 to 100"),
    ],
)
def test_the_api_refuses_such_numbers_with_a_json_error(site: str, query: str, message: str):
    status, headers, body = get(f"{site}/api/search?q=tarix&{query}")
    assert status == 400 and headers["Content-Type"] == "application/json", body[:300]
    error = json.loads(body)["error"]
    assert error.startswith(message) and len(error) < 200  # a long value is not echoed whole


def test_a_decade_that_is_no_number_is_shown_as_it_is(site: str):
    status, _, body = get(f"{site}/search?q=&decade={SUPERSCRIPT}&lang=en")
    assert status == 200 and "Decade: ² ✕" in body.decode()


@pytest.mark.parametrize(
    ("header", "status", "content_range"),
    [
        ("bytes=\u00b2-", 416, "bytes */100"),  # not an ASCII digit: no range we read
        (f"bytes={LONG}-", 416, "bytes */100"),  # starts past the end
        (f"bytes=10-{LONG}", 206, "bytes 10-99/100"),  # ends past the end: up to the end
        (f"bytes=-{LONG}", 206, "bytes 0-99/100"),  # more than all of it: all of it
        ("bytes=90-", 206, "bytes 90-99/100"),
    ],
)
def test_byte_ranges_are_read_as_ascii_numbers_of_any_length(site: str, header: str, status: int,
                                                             content_range: str):  # fmt: skip
    got, headers, body = get(site + "/records/B1/files/matn.txt", Range=header)  # sent as Latin-1
    assert (got, headers.get("Content-Range")) == (status, content_range), body[:300]


def test_a_sitemap_number_of_any_length_is_a_404(site: str):
    assert get(f"{site}/sitemap-{LONG}.xml")[0] == 404
    assert get(f"{site}/sitemap-{HUGE}.xml")[0] == 404
