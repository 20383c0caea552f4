"""What the web side refuses and how it serves files safely: body limits, types, caching, headers; and what
`kutubxona serve` refuses before the app: never an HTML page."""

from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from lxml import etree

from repository.web.files import shown_inline
from tests.conftest import BASE_URL, require
from tests.helpers import import_json, marc, write
from tests.oai_client import validate
from tests.web.test_shedding import samples
from tests.web.wire import Answer, exchange

FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
TE_CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n"


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
# ------------------------------------------------------- what the HTTP server refuses before the app


def oai_error(answer: Answer) -> str:
    """The code of an OAI-PMH error answer, after checking it against the schemas; for badVerb and
    badArgument the request element carries no attributes (OAI-PMH 3.2)."""
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8", answer
    doc = etree.fromstring(answer.body)
    validate(doc)
    code = doc.find("{*}error").get("code")
    assert doc.find("{*}request").text == f"{BASE_URL}/oai"
    assert code not in ("badVerb", "badArgument") or doc.find("{*}request").attrib == {}
    return code


def plain(answer: Answer) -> str:
    """The one line of a plain-text refusal."""
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8", answer
    assert answer.body.endswith(b"\n") and answer.body.count(b"\n") == 1, answer
    return answer.body.decode()


def test_what_the_http_server_refuses_is_oai_xml_at_oai_and_one_plain_line_elsewhere(serve):  # noqa: ANN001
    server = serve(BASE_URL=BASE_URL)

    def ask(target: bytes, *headers: bytes) -> Answer:
        answer = exchange(server.port, b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (target, b"".join(headers)))
        assert answer.closed and b"<html" not in answer.raw.lower(), answer
        return answer

    # a 10 KB token reaches OAI-PMH, which says what is wrong with it
    long_token = ask(b"/oai?verb=ListRecords&resumptionToken=" + b"A" * 10_240 + b"&x=1")
    assert long_token.status == 200 and oai_error(long_token) == "badArgument"
    long_token = ask(b"/oai?verb=ListRecords&resumptionToken=" + b"A" * 10_240)
    assert long_token.status == 200 and oai_error(long_token) == "badResumptionToken"
    # past the bound of a request line: 414, in OAI-PMH's words at /oai
    too_long = ask(b"/oai?verb=ListRecords&resumptionToken=" + b"A" * 40_000)
    assert too_long.status == 414 and oai_error(too_long) == "badArgument"
    assert b"longer than 32768 bytes" in too_long.body
    # bytes a URL may not hold (RFC 3986 2.1: percent-encode them): 400; badVerb when the verb is unreadable
    raw_bytes = ask("/oai?verb=ListRecords&metadataPrefix=oai_dc&set=ҳужжат".encode())
    assert raw_bytes.status == 400 and oai_error(raw_bytes) == "badArgument" and b"percent-encoded" in raw_bytes.body
    assert oai_error(ask("/oai?verb=Идентификация".encode())) == "badVerb"
    assert oai_error(ask(b"/oai?verb=Identify", b"X-Big: " + b"b" * 9000 + b"\r\n")) == "badArgument"
    chunked = exchange(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nverb=Identify\r\n0\r\n\r\n")  # fmt: skip
    assert chunked.status == 400 and oai_error(chunked) == "badVerb" and b"chunked body is malformed" in chunked.body
    # what only gunicorn's parser finds wrong in a chunked body (RFC 9112 7.1) is refused the same way, once
    for body in (b"9 \r\nverb=Iden\r\n0\r\n\r\n", b"9;a\nb\r\nverb=Iden\r\n0\r\n\r\n",
                 b"9\r\nverb=Iden\r\n0\r\nContent-Length: 4\r\n\r\n"):  # fmt: skip
        chunked = exchange(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + TE_CHUNKED + body)
        assert chunked.status == 400 and oai_error(chunked) == "badVerb", chunked
        assert chunked.raw.count(b"HTTP/1.1 ") == 1 and chunked.closed, chunked
        unread = exchange(server.port, b"POST /healthz HTTP/1.1\r\nHost: x\r\n" + TE_CHUNKED + body)
        assert unread.raw.count(b"HTTP/1.1 ") == 1 and unread.status == 400, unread  # not a 405, then a 400
    # a length of more digits than int() reads is refused, and the worker lives on to say so
    endless = exchange(server.port, b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"1" * 5000 + b"\r\n\r\n")
    assert plain(endless) == "400 Bad Request: Invalid HTTP Header: 'CONTENT-LENGTH'\n"
    # anywhere else, one line of plain text with the status
    assert plain(ask("/search?q=ҳужжат".encode())).startswith("400 Bad Request: ")
    too_long = ask(b"/search?q=" + b"a" * 40_000)
    assert plain(too_long) == "414 URI Too Long: the request line is longer than 32768 bytes\n"
    big_header = ask(b"/search?q=tarix", b"X-Big: " + b"b" * 9000 + b"\r\n")
    assert big_header.status == 431 and plain(big_header).startswith("431 Request Header Fields Too Large: ")
    garbage = exchange(server.port, b"HELLO\r\n\r\n")
    assert garbage.status == 400 and plain(garbage).startswith("400 Bad Request: ")
    counted = samples(server.url)
    assert {status: counted[("kutubxona_refused_requests_total", (("status", status),))]
            for status in ("400", "414", "431")} == {"400": 12, "414": 2, "431": 2}  # fmt: skip


def test_the_request_line_bound_is_a_setting(serve):  # noqa: ANN001
    server = serve(BASE_URL=BASE_URL, REQUEST_LINE_BYTES="4096")
    answer = exchange(server.port, b"GET /oai?verb=ListRecords&resumptionToken=%s HTTP/1.1\r\nHost: x\r\n\r\n" % (
        b"A" * 5000))  # fmt: skip
    assert answer.status == 414 and oai_error(answer) == "badArgument" and b"longer than 4096 bytes" in answer.body
