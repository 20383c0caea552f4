"""What a shared cache may keep, and what it must tell apart: a response it may keep never sets the language
cookie, and a response whose language was chosen by the cookie or Accept-Language says it varies on them."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import Cli
from tests.helpers import import_json, marc, write
from tests.web.test_site import get


def cover_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (23, 90, 114)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def site(cli: Cli, live: str, tmp_path: Path) -> str:
    cli("sets", "add", "tarix", "Tarix fondi")
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "Tarix kitobi")), "--set", "tarix")
    (tmp_path / "matn.txt").write_text("Matn")
    cli("attach", "B1", tmp_path / "matn.txt", "--ocr", "never")
    (tmp_path / "cover.png").write_bytes(cover_png())
    cli("sets", "exhibit", "tarix", "--cover", tmp_path / "cover.png")
    return live


def shared_cacheable(headers: dict[str, str]) -> bool:
    """May a shared cache keep this answer for everyone (RFC 9111 3, 5.2.2)?"""
    directives = {d.strip().split("=")[0].lower() for d in headers.get("Cache-Control", "").split(",") if d.strip()}
    if directives & {"private", "no-store"}:
        return False
    return bool(directives & {"public", "max-age", "s-maxage"}) or "Expires" in headers


def varies(headers: dict[str, str]) -> set[str]:
    return {v.strip().lower() for v in headers.get("Vary", "").split(",") if v.strip()}


CACHEABLE = ["/records/B1/qr.svg", "/records/B1/files/matn.txt", "/collections/tarix/cover"]
NEGOTIATED = ["/", "/records/B1", "/search?q=tarix", "/collections/tarix", "/collections/tarix/album",
              "/collections/tarix/album.pdf", "/no/such/page", "/records/NOPE", "/search?q=tarix&page=abc",
              "/opensearch.xml"]  # fmt: skip


@pytest.mark.parametrize("path", CACHEABLE)
def test_what_a_shared_cache_may_keep_never_sets_the_language_cookie(site: str, path: str):
    sep = "&" if "?" in path else "?"
    status, headers, _ = get(f"{site}{path}{sep}lang=ru", **{"Accept-Language": "en"})
    assert status == 200 and shared_cacheable(headers), (path, headers)
    assert "Set-Cookie" not in headers, path


@pytest.mark.parametrize("path", NEGOTIATED)
def test_an_answer_in_the_chosen_language_varies_on_the_cookie_and_accept_language(site: str, path: str):
    status, headers, _ = get(site + path, **{"Accept-Language": "ru"})
    assert status < 500 and {"cookie", "accept-language"} <= varies(headers), (path, headers)
    assert "Set-Cookie" not in headers  # the browser's language is not remembered: nothing was chosen
    sep = "&" if "?" in path else "?"
    status, headers, _ = get(f"{site}{path}{sep}lang=en")
    assert headers["Set-Cookie"].startswith("lang=en;") and not shared_cacheable(headers), (path, headers)
    assert {"cookie", "accept-language"} <= varies(headers), path


def test_what_speaks_no_language_does_not_vary_on_it_and_compressed_oai_varies_on_accept_encoding(site: str):
    for path in ("/api/search?q=tarix", "/api/records/B1", "/records/B1/qr.svg", "/sitemap.xml", "/healthz"):
        status, headers, _ = get(site + path, **{"Accept-Language": "ru", "Cookie": "lang=en"})
        assert status == 200 and not {"cookie", "accept-language"} & varies(headers), (path, headers)
    status, headers, body = get(site + "/oai?verb=Identify", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and b"<Identify>" in gzip.decompress(body)
    assert "accept-encoding" in varies(headers)
    status, headers, _ = get(site + "/oai?verb=Identify")
    assert "Content-Encoding" not in headers and "accept-encoding" in varies(headers)
