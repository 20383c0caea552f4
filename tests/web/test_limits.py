"""What the web side refuses and how it serves files safely: body limits, types, caching, headers."""

from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from repository.web.files import shown_inline
from tests.conftest import require
from tests.helpers import import_json, marc, write


def fetch(url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_an_oai_post_over_64_kb_is_413_and_one_under_is_answered(live: str):
    status, headers, body = fetch(f"{live}/oai", b"verb=Identify&x=" + b"a" * (64 * 1024))
    assert status == 413 and headers["Content-Type"].startswith("text/plain") and b"at most 65536" in body
    status, _, body = fetch(f"{live}/oai", b"verb=Identify")
    assert status == 200 and b"<Identify>" in body


def test_pages_send_a_content_security_policy_and_nosniff(live: str):
    status, headers, _ = fetch(f"{live}/")
    assert status == 200
    assert "default-src 'self'" in headers["Content-Security-Policy"] and "object-src 'none'" in headers[
        "Content-Security-Policy"]  # fmt: skip
    assert headers["X-Content-Type-Options"] == "nosniff"
    _, oai_headers, _ = fetch(f"{live}/oai?verb=Identify")
    assert oai_headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" not in oai_headers


@pytest.mark.parametrize(
    ("mime", "inline"),
    [("application/pdf", True), ("image/jpeg", True), ("image/tiff", True), ("text/plain", True),
     ("audio/mpeg", True), ("video/mp4", True), ("image/svg+xml", False), ("text/html", False),
     ("application/xml", False), ("text/xml", False), ("application/octet-stream", False),
     ("application/zip", False)],
)  # fmt: skip
def test_only_harmless_types_are_shown_inline(mime: str, inline: bool):
    assert shown_inline(mime) is inline


def test_html_and_svg_files_download_as_attachments(cli, live: str, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc("W1", "Fayllar")))
    page = tmp_path / "page.html"
    page.write_bytes(b"<!doctype html><html><body><script>alert(1)</script></body></html>")
    svg = tmp_path / "logo.svg"
    svg.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    cli("attach", "W1", page, svg, "--ocr", "never")
    for name in ("page.html", "logo.svg"):
        status, headers, _ = fetch(f"{live}/records/W1/files/{name}")
        assert status == 200, name
        assert headers["Content-Disposition"].startswith("attachment;"), name
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_files_not_open_to_all_stay_out_of_shared_caches_and_off_the_page(cli, live: str, tmp_path: Path,
                                                                          services):  # fmt: skip
    require(shutil.which("pdftotext") is not None, "pdftotext")
    from tests.fulltext.pages import text_pdf

    import_json(cli, write(tmp_path / "a.mrc", marc("W2", "Cheklangan")))
    for name, access in (("ochiq.pdf", "open"), ("yopiq.pdf", "restricted"),
                         ("kutish.pdf", f"embargo:{date.today() + timedelta(days=30)}"),
                         ("tugadi.pdf", f"embargo:{date.today()}")):  # fmt: skip
        pdf = tmp_path / name
        pdf.write_bytes(text_pdf([[f"Sahifa {name}"]]))
        cli("attach", "W2", pdf, "--access", access)
    status, headers, _ = fetch(f"{live}/records/W2/files/ochiq.pdf")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=86400"
    assert headers["Content-Disposition"].startswith("inline;")
    for closed in ("yopiq.pdf", "kutish.pdf"):
        status, headers, _ = fetch(f"{live}/records/W2/files/{closed}")
        assert status == 403 and headers["Cache-Control"] == "private, no-store"
    status, headers, _ = fetch(f"{live}/records/W2/files/tugadi.pdf")  # embargo over, not yet released
    assert status == 200 and headers["Cache-Control"] == "private, no-store"
    page = fetch(f"{live}/records/W2?lang=en")[2].decode()
    assert "ochiq.pdf" in page and "tugadi.pdf" in page
    assert "yopiq.pdf" not in page and "kutish.pdf" not in page and "2 files with restricted access" in page


AWKWARD = ['say "hi"; name=x.txt', "line\r\nbreak.txt", "Ўзбек тили — oʻqish.txt", "a;b=c,d%20e.txt", "tab\there.txt"]


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*;\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|{_TOKEN})\s*')


def disposition_of(value: str) -> tuple[str, str]:
    """The kind and file name an RFC 6266 reader takes from a Content-Disposition: parameters as the grammar
    has them (each once), and ``filename*`` (RFC 5987: UTF-8, percent-encoded) before ``filename``."""
    kind, params = re.match(_TOKEN, value).group(), {}
    at = len(kind)
    while at < len(value):
        param = _PARAM.match(value, at)
        assert param is not None, f"not RFC 6266 from {value[at:]!r}"
        name = param.group(1).lower()
        assert name not in params, f"{name} twice"
        params[name], at = param.group(2), param.end()
    if "filename*" in params:
        charset, language, encoded = params["filename*"].split("'")
        assert charset.lower() == "utf-8" and not language
        return kind.lower(), unquote(encoded, errors="strict")
    return kind.lower(), re.sub(r"\\(.)", r"\1", params["filename"].strip('"'))


def test_awkward_file_names_download_under_their_own_name_safely_encoded(cli, live: str, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc('Q"1;x', "Nomlar")))
    folder = tmp_path / "files"
    folder.mkdir()
    for name in AWKWARD:
        (folder / name).write_text(f"Matn: {name}")
        cli("attach", 'Q"1;x', folder / name, "--ocr", "never")
    for name in AWKWARD:
        status, headers, body = fetch(f"{live}/records/{quote(chr(81) + chr(34) + '1;x', safe='')}/files/"
                                      f"{quote(name, safe='')}")  # fmt: skip
        assert status == 200 and body == f"Matn: {name}".encode(), name
        value = headers["Content-Disposition"]
        assert not re.search(r"[\x00-\x1f\x7f]", value) and value.isascii(), value  # one line of ASCII
        fallback = re.search(r'filename="([^"]*)"', value).group(1)
        assert re.fullmatch(r"[A-Za-z0-9._-]+", fallback), value  # for readers of filename= alone
        assert disposition_of(value) == ("inline", name), value  # filename*=UTF-8''... gives it whole
    status, headers, _ = fetch(f"{live}/records/{quote(chr(81) + chr(34) + '1;x', safe='')}/cite.ris")
    assert status == 200 and disposition_of(headers["Content-Disposition"]) == ("attachment", 'Q"1;x.ris')
