"""Reading a request whole before a thread serves it, bytes in and a verdict out (no server needed)."""

from __future__ import annotations

import pytest
from lxml import etree

from repository.oai import OAISettings
from repository.web.intake import MORE, READY, REFUSED, Incoming, Limits, answer, explain
from tests.oai_client import validate

LIMITS = Limits(line=1024, body=1000, oai_body=100, seconds=10)
OAI = OAISettings("http://kutubxona.test/oai", "Test", "test.kutubxona.uz", ("a@kutubxona.uz",), "secret")
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"


def byte_by_byte(data: bytes) -> tuple[list[str], Incoming]:
    """Feed ``data`` one byte at a time: the verdict after each byte."""
    incoming = Incoming(LIMITS)
    return [incoming.feed(data[i : i + 1]) for i in range(len(data))], incoming


def test_a_request_is_ready_at_its_last_byte_and_not_before():
    head = b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n\r\n"
    verdicts, incoming = byte_by_byte(head)
    assert verdicts == [MORE] * (len(head) - 1) + [READY] and not incoming.body_unread
    post = b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Content-Length: 13\r\n\r\nverb=Identify"
    verdicts, incoming = byte_by_byte(post)
    assert verdicts == [MORE] * (len(post) - 1) + [READY] and incoming.body_end == len(post)
    # a pipelined request behind it stays in the bytes, for the next reading
    pipelined = Incoming(LIMITS, post + head)
    assert pipelined.feed() == READY and bytes(pipelined.data[pipelined.body_end :]) == head


def test_a_chunked_body_is_ready_once_its_last_chunk_and_trailers_arrive():
    body = b"5\r\nverb=\r\n8;note=x\r\nIdentify\r\n0\r\nX-Trailer: y\r\n\r\n"
    request = b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Transfer-Encoding: chunked\r\n\r\n" + body
    verdicts, incoming = byte_by_byte(request)
    assert verdicts == [MORE] * (len(request) - 1) + [READY] and incoming.chunked_bytes == 13
    assert not incoming.body_unread


@pytest.mark.parametrize(
    ("fields", "body"),
    [
        (b"Content-Length: 101\r\n", b""),  # announced past the OAI limit: the app says 413
        (b"Transfer-Encoding: chunked\r\n", b"65\r\n" + b"a" * 101),  # a chunk past it, as it arrives
        (b"Content-Length: 5\r\nContent-Length: 5\r\n", b""),  # framing the parser refuses
        (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b""),
        (b"Transfer-Encoding: gzip\r\n", b""),
        (b"Content-Length: -5\r\n", b""),
        (b"Content-Length: " + b"1" * 5000 + b"\r\n", b""),  # past int()'s 4,300 digits: past any limit
        (b"Content-Length: \xd9\xa3\r\n", b""),  # a digit of another script
        (b"Expect: a miracle\r\nContent-Length: 5\r\n", b""),
    ],
)
def test_what_cannot_be_read_whole_is_handed_over_at_once_to_close_after_its_answer(fields: bytes, body: bytes):
    incoming = Incoming(LIMITS, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n" + body)
    assert incoming.feed() == READY and incoming.body_unread and not incoming.continue_due


@pytest.mark.parametrize(
    "body", [b"0x5\r\nverb=\r\n", b"zz\r\n", b"5\r\nverb=Identify\r\n0\r\n\r\n", b"5" * 1100]
)
def test_a_malformed_chunked_body_is_refused_by_the_server(body: bytes):
    incoming = Incoming(LIMITS, b"POST /oai HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert incoming.feed() == REFUSED and incoming.refusal.status == 400


def test_a_chunked_body_s_framing_counts_toward_what_is_held():
    # one byte of data per chunk, each behind a size line of 1 KB of extensions: the data stays far under the
    # limit while the bytes held grow a thousandfold
    incoming = Incoming(LIMITS, b"POST /search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert incoming.feed() == MORE
    chunk = b"1;" + b"e" * 1000 + b"\r\na\r\n"  # 1007 bytes: the second passes twice the limit
    assert [incoming.feed(chunk) for _ in range(2)] == [MORE, REFUSED]
    assert incoming.refusal.status == 413 and incoming.chunked_bytes == 2
    assert "more than 2000 bytes as sent" in incoming.refusal.message
    # small chunks of ordinary size, their lines included, are read whole up to the limit
    ordinary = Incoming(LIMITS, b"POST /search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert ordinary.feed(b"a\r\n0123456789\r\n" * 100 + b"0\r\n\r\n") == READY and not ordinary.body_unread


def test_the_body_limit_is_the_oai_one_at_oai_only():
    elsewhere = Incoming(LIMITS, b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
    assert elsewhere.feed() == MORE and elsewhere.feed(b"a" * 500) == READY and not elsewhere.body_unread
    absolute = Incoming(LIMITS, b"POST http://x/oai HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
    assert absolute.feed() == READY and absolute.body_unread


def test_a_request_line_or_header_fields_past_their_bounds_are_refused_before_they_end():
    incoming = Incoming(LIMITS, b"GET /oai?resumptionToken=" + b"A" * 1100)
    assert incoming.feed() == REFUSED and incoming.refusal.status == 414
    assert incoming.refusal.message == "the request line is longer than 1024 bytes"
    assert Incoming(LIMITS, b"GET /" + b"a" * 1000 + b" HTTP/1.1\r\n").feed() == MORE  # 1016 bytes: within
    fields = Incoming(LIMITS, b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 9000)
    assert fields.feed() == REFUSED and fields.refusal.status == 431


def test_a_bare_line_feed_is_left_to_the_parser_to_refuse():
    assert Incoming(LIMITS, b"GET / HTTP/1.1\n").feed() == READY
    incoming = Incoming(LIMITS, b"GET / HTTP/1.1\r\nHost: x\n\n")
    assert incoming.feed() == READY and incoming.body_unread


def test_100_continue_is_due_only_when_a_body_is_awaited_over_http_1_1():
    def due(request: bytes) -> bool:
        incoming = Incoming(LIMITS, request)
        incoming.feed()
        return incoming.continue_due

    expect = b"Expect: 100-continue\r\n"
    assert due(b"POST /oai HTTP/1.1\r\nContent-Length: 13\r\n" + expect + b"\r\n")
    assert not due(b"POST /oai HTTP/1.0\r\nContent-Length: 13\r\n" + expect + b"\r\n")
    assert not due(b"GET /oai HTTP/1.1\r\n" + expect + b"\r\n")


def test_the_servers_own_answers_are_oai_xml_at_oai_and_one_plain_line_elsewhere():
    def parts(raw: bytes) -> tuple[bytes, bytes]:
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.endswith(b"\r\nConnection: close") and b"\r\nContent-Length: %d\r\n" % len(body) in head
        return head, body

    head, body = parts(answer(414, "URI Too Long", "too long", b"GET /oai?verb=ListRecords&resum", OAI))
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n") and b"Content-Type: text/xml; charset=utf-8" in head
    doc = etree.fromstring(body)
    validate(doc)
    assert doc.find("{*}error").get("code") == "badArgument" and doc.find("{*}error").text == "too long"
    _, body = parts(answer(400, "Bad Request", "bad", b"GET /oai?verb=Nonsense HTTP/1.1\r\n", OAI))
    assert b'<error code="badVerb">bad</error>' in body
    _, body = parts(answer(408, "Request Timeout", "late", b"POST /oai HTTP/1.1\r\n\r\nverb=GetRecord", OAI))
    assert b'<error code="badArgument">late</error>' in body  # a POST's verb is read from its body
    head, body = parts(answer(400, "Bad Request", "bad", b"GET /search?q=\xd0 HTTP/1.1\r\n", OAI))
    assert b"Content-Type: text/plain; charset=utf-8" in head and body == b"400 Bad Request: bad\n"
    _, body = parts(answer(500, "Internal Server Error", "failed", b"GET /oai?verb=Identify HTTP/1.1", OAI))
    assert body == b"500 Internal Server Error: failed\n"  # the server's own fault is not an OAI error


def test_the_reason_given_is_plain_and_safe_to_show():
    assert "percent-encoded" in explain(400, "Invalid HTTP request line", b"GET /search?q=\xd0\xb0 HTTP/1.1\r\n")
    assert explain(400, "Invalid header 'X-\x00\x1b[31m'", b"GET / HTTP/1.1\r\n") == "Invalid header 'X-??[31m'"
    assert len(explain(400, "x" * 1000, b"")) == 203


@pytest.mark.parametrize(
    "request_bytes",
    [b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n\r\n",
     b"\r\nPOST /search HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nabcd",
     b"POST /oai HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nverb=\r\n8\r\nIdentify\r\n0\r\nA: b\r\n\r\n",
     b"POST /oai HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nverb=Identify\r\n0\r\n\r\n",
     b"GET / HTTP/1.1\r\nHost: x\r\nX: y\n\r\n",
     b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\n\r\n"],
)  # fmt: skip
def test_where_the_bytes_are_cut_between_arrivals_changes_nothing(request_bytes: bytes):
    whole = Incoming(LIMITS, request_bytes)
    expected = (whole.feed(), whole.body_unread, whole.refusal, whole.body_end)
    for cut in range(1, len(request_bytes)):
        incoming = Incoming(LIMITS, request_bytes[:cut])
        verdict = incoming.feed()
        if verdict == MORE:
            verdict = incoming.feed(request_bytes[cut:])
        assert (verdict, incoming.body_unread, incoming.refusal, incoming.body_end) == expected, cut
