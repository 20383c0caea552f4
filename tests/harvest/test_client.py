"""The harvester's client against a server that misbehaves the way real repositories do."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from lxml import etree

from harvest import Client, RetryPolicy, errors
from harvest.addresses import Policy
from harvest.client import retry_after_seconds
from tests.harvest.quirks import DC, OAI_HEAD, QuirkServer, Reply, error, list_records, record

FAST = RetryPolicy(max_retries=3, backoff=0.01, backoff_max=0.05, retry_after_cap=30)
LOOPBACK = Policy(allow_private=True)  # the test servers listen on 127.0.0.1


def client(server: QuirkServer, waits: list[float] | None = None, **kwargs) -> Client:  # noqa: ANN003
    sleeps = waits if waits is not None else []
    return Client(server.url, retry=kwargs.pop("retry", FAST), sleep=sleeps.append, addresses=LOOPBACK, **kwargs)


def test_follows_tokens_sent_back_exactly_and_alone():
    token = "a+b/c=d%e&f"  # characters a careless client would mangle

    def script(args: dict[str, str]) -> Reply:
        if args.get("resumptionToken") == token:
            return Reply(list_records([record("oai:x:2")], token=""))
        return Reply(list_records([record("oai:x:1")], token=token))

    with QuirkServer(script).running() as server:
        got = [r.identifier for r in client(server).list_records(metadataPrefix="oai_dc", set="s")]
    assert got == ["oai:x:1", "oai:x:2"]
    assert server.requests[1] == {"verb": "ListRecords", "resumptionToken": token}  # exclusive, byte for byte


def test_post_when_configured():
    with QuirkServer(lambda args: Reply(list_records([record(f"oai:x:{args['verb']}")]))).running() as server:
        got = [r.identifier for r in client(server, method="POST").list_records(metadataPrefix="oai_dc")]
    assert got == ["oai:x:ListRecords"]


def test_503_honours_retry_after_seconds_and_dates_with_a_cap():
    calls = []
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)

    def script(args: dict[str, str]) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return Reply(b"busy", 503, {"Retry-After": "7"})
        if len(calls) == 2:
            return Reply(b"busy", 503, {"Retry-After": later})
        if len(calls) == 3:
            return Reply(b"busy", 503, {"Retry-After": "99999"})
        return Reply(list_records([record("oai:x:1")]))

    waits: list[float] = []
    with QuirkServer(script).running() as server:
        assert len(list(client(server, waits, retry=RetryPolicy(max_retries=5, retry_after_cap=30))
                        .list_records(metadataPrefix="oai_dc"))) == 1  # fmt: skip
    assert waits[0] == 7 and 15 <= waits[1] <= 20 and waits[2] == 30


def test_retry_after_on_other_statuses_is_ignored():
    waits: list[float] = []
    with QuirkServer(
        lambda a: Reply(list_records([record("oai:x:1")]), headers={"Retry-After": "3600"})
    ).running() as s:
        assert len(list(client(s, waits).list_records(metadataPrefix="oai_dc"))) == 1
    assert waits == []


def test_5xx_and_dropped_connections_back_off_then_give_up():
    body = list_records([record(f"oai:x:{i}") for i in range(50)])
    calls = []

    def flaky(args: dict[str, str]) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return Reply(body, cut_after=len(body) // 2)  # the connection drops mid-page
        if len(calls) == 2:
            return Reply(b"oops", 502)
        return Reply(body)

    waits: list[float] = []
    with QuirkServer(flaky).running() as server:
        assert len(list(client(server, waits).list_records(metadataPrefix="oai_dc"))) == 50
    assert len(waits) == 2 and waits[1] > waits[0] * 1.2  # exponential
    down = QuirkServer(lambda a: Reply(b"down", 500))
    with down.running() as server, pytest.raises(errors.TransportError, match="HTTP 500.*gave up after 4 attempts"):
        list(client(server).list_records(metadataPrefix="oai_dc"))


def test_one_bad_record_is_set_aside_and_the_page_kept():
    bad = record("oai:x:2", title="bad \x01 char")
    broken_tag = "<record><header><identifier>oai:x:3</identifier></header><metadata><oops></metadata></record>"
    page = list_records([record("oai:x:1"), bad, broken_tag, record("oai:x:4")])
    with QuirkServer(lambda a: Reply(page)).running() as server:
        pages = list(client(server).pages("ListRecords", metadataPrefix="oai_dc"))
    assert [r.identifier for r in pages[0].records] == ["oai:x:1", "oai:x:4"]
    assert [s.position for s in pages[0].set_aside] == [2, 3]
    assert all("well-formed" in s.reason for s in pages[0].set_aside)


def test_token_loop_is_detected():
    looping = QuirkServer(lambda a: Reply(list_records([record("oai:x:1")], token="same")))
    with looping.running() as server, pytest.raises(errors.TokenLoop, match="came back"):
        list(client(server).list_records(metadataPrefix="oai_dc"))


def test_oai_error_under_http_422_is_the_oai_error():
    with QuirkServer(lambda a: Reply(error("cannotDisseminateFormat"), 422)).running() as server:
        with pytest.raises(errors.CannotDisseminateFormat):
            list(client(server).list_records(metadataPrefix="nope"))
        with pytest.raises(errors.OAIError):  # one base for every OAI error
            list(client(server).list_records(metadataPrefix="nope"))


def test_no_records_match_is_an_empty_list():
    with QuirkServer(lambda a: Reply(error("noRecordsMatch"))).running() as server:
        assert list(client(server).list_records(metadataPrefix="oai_dc", from_="2100-01-01")) == []


def test_undeclared_gzip_bom_stylesheet_application_xml_and_prefixed_namespaces():
    prefixed = (
        '\ufeff<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="/oai.xsl"?>'
        '<oai:OAI-PMH xmlns:oai="http://www.openarchives.org/OAI/2.0/"><oai:responseDate>2024-01-01T00:00:00Z'
        "</oai:responseDate><oai:request>x</oai:request><oai:ListRecords><oai:record><oai:header>"
        "<oai:identifier>oai:x:1</oai:identifier><oai:datestamp>2024-01-01</oai:datestamp></oai:header>"
        f"<oai:metadata>{DC.format(title='Prefixed')}</oai:metadata></oai:record></oai:ListRecords></oai:OAI-PMH>"
    ).encode()
    with QuirkServer(lambda a: Reply.gzip_undeclared(prefixed)).running() as server:
        got = list(client(server).list_records(metadataPrefix="oai_dc"))
    assert [r.identifier for r in got] == ["oai:x:1"]
    assert got[0].metadata is not None


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("TOP SECRET")
    head = OAI_HEAD.format(date="2024-01-01T00:00:00Z", verb="ListRecords").split("?>", 1)[1]
    doctype = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
    evil = (doctype + head + "<ListRecords>" + record("oai:x:1", title="&x;") + "</ListRecords></OAI-PMH>").encode()
    with QuirkServer(lambda a: Reply(evil)).running() as server:
        got = list(client(server).list_records(metadataPrefix="oai_dc"))
    assert len(got) == 1 and got[0].metadata is not None
    assert "TOP SECRET" not in etree.tostring(got[0].metadata, encoding="unicode")


def test_not_oai_is_one_clear_error():
    html = QuirkServer(lambda a: Reply(b"<html>Not found</html>", 404))
    with html.running() as server, pytest.raises(errors.NotOAI, match="HTTP 404"):
        list(client(server).list_records(metadataPrefix="oai_dc"))


def test_retry_after_parsing():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 01 Jan 2024 00:01:00 GMT", now) == 60
    assert retry_after_seconds("Sun, 31 Dec 2023 00:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None


def test_a_gzip_bomb_is_refused_declared_or_not():
    page = list_records([record("oai:x:1")])
    bomb = gzip.compress(page[:-30] + b" " * (120 * 1024 * 1024) + page[-30:], 9)  # 120 MB of spaces
    declared = Reply(bomb, headers={"Content-Encoding": "gzip"})
    with QuirkServer(lambda a: declared).running() as server, pytest.raises(errors.TooLarge, match="over 100 MB"):
        list(client(server).list_records(metadataPrefix="oai_dc"))
    undeclared = Reply(bomb, headers={"Content-Type": "application/xml"})
    with QuirkServer(lambda a: undeclared).running() as server, pytest.raises(errors.TooLarge, match="over 100 MB"):
        list(client(server).list_records(metadataPrefix="oai_dc"))


def test_a_small_limit_and_a_plain_body_over_it():
    page = list_records([record(f"oai:x:{n}", title="x" * 1000) for n in range(50)])
    with QuirkServer(lambda a: Reply(page)).running() as server:
        with pytest.raises(errors.TooLarge):
            list(client(server, max_bytes=len(page) // 2).list_records(metadataPrefix="oai_dc"))
        assert len(list(client(server, max_bytes=len(page)).list_records(metadataPrefix="oai_dc"))) == 50


def test_a_response_that_drips_is_cut_after_its_total_time():
    slow = Reply(list_records([record("oai:x:1")]), drip=0.02)  # about 8 s for the whole page
    once = RetryPolicy(max_retries=0)
    started = time.monotonic()
    with QuirkServer(lambda a: slow).running() as server, pytest.raises(errors.TransportError, match="took over 1 s"):
        list(client(server, retry=once, timeout=5, response_seconds=1).list_records(metadataPrefix="oai_dc"))
    assert time.monotonic() - started < 4  # each read was quick: only the total time could stop it


def test_retry_after_zero_means_at_once():
    replies = iter([Reply(b"busy", 503, {"Retry-After": "0"}), Reply(list_records([record("oai:x:1")]))])
    waits: list[float] = []
    with QuirkServer(lambda a: next(replies)).running() as server:
        assert len(list(client(server, waits).list_records(metadataPrefix="oai_dc"))) == 1
    assert waits == [0.0]  # not the exponential backoff an absent header gets
