"""`kutubxona serve` in production dress: slow clients cost a connection, not a thread (the worker reads
each request whole before a thread takes it up, within a deadline); load shedding (a request that
waited too long for a thread is answered 503), metrics summed over the workers, and JSON log lines."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from repository.web.serving import _Sending
from tests.conftest import free_port
from tests.helpers import import_json, marc, write
from tests.web.conftest import Served
from tests.web.test_site import get
from tests.web.wire import Answer, connect, exchange, read_to_close, readable

READ_SECONDS = 3  # KUTUBXONA_REQUEST_READ_SECONDS of the slow-client test
POLL = 1.0  # the worker looks for overdue connections about once a second
IDENTIFY = b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
STALLED_BODY = b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Content-Length: 13\r\n\r\nverb=Id"  # 13 bytes announced
HALF_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"  # the blank line that ends the head never comes


def samples(url: str) -> dict[tuple[str, tuple], float]:
    """The metrics of ``url``/metrics as {(sample name, sorted labels): value}."""
    status, headers, body = get(url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}  # fmt: skip


def drip(port: int, answers: list[Answer]) -> None:
    """A slowloris: a request head sent a byte every 0.25 s, never idle long, never finished in time."""
    sock, opened = connect(port)
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: one byte at a time\r\n\r\n":
        if readable(sock, 0.25):
            break  # the server has answered (or closed): stop sending
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
    answers.append(read_to_close(sock, opened, READ_SECONDS + 10))


def test_slow_clients_hold_no_thread_and_are_closed_at_the_read_deadline(serve: Callable[..., Served]):
    server = serve(threads=2, REQUEST_READ_SECONDS=str(READ_SECONDS), LOG_FORMAT="json")
    # clients that keep an answered connection open: the worker lets go of them without waiting
    keepers = [connect(server.port, HEALTHZ) for _ in range(4)]
    for sock, _ in keepers:
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    # ten times as many slow clients as threads: bodies that stall, heads that stop, silent connections
    stalled = [connect(server.port, STALLED_BODY) for _ in range(8)]
    halted = [connect(server.port, HALF_HEAD) for _ in range(8)]
    silent = [connect(server.port) for _ in range(4)]
    dripped: list[Answer] = []
    drippers = [threading.Thread(target=drip, args=(server.port, dripped)) for _ in range(2)]
    for t in drippers:
        t.start()
    time.sleep(0.5)
    # the server answers at once all the while, the health probe and OAI-PMH by GET and by POST: within
    # 2 s, before any slow client's deadline could have freed anything
    quick = [exchange(server.port, request, timeout=2) for request in (HEALTHZ, IDENTIFY, HEALTHZ)]
    posted = exchange(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Content-Length: 13\r\n"
                      b"Connection: close\r\n\r\nverb=Identify", timeout=2)  # fmt: skip
    assert [a.status for a in quick] == [200, 200, 200], quick
    assert b"<Identify>" in quick[1].body and posted.status == 200 and b"<Identify>" in posted.body
    # each slow client is closed at the deadline after its first byte (or its connection): a request
    # begun is answered 408 (at /oai in OAI-PMH's words), a connection that never said a word is closed
    late_oai = [read_to_close(sock, opened, READ_SECONDS + 10) for sock, opened in stalled]
    begun = [read_to_close(sock, opened, READ_SECONDS + 10) for sock, opened in halted]
    quiet = [read_to_close(sock, opened, READ_SECONDS + 10) for sock, opened in silent]
    for t in drippers:
        t.join(timeout=30)
    for answer in late_oai + begun + dripped:
        assert answer.closed and answer.status == 408 and answer.headers["Connection"] == "close", answer
    assert all(a.body == b"408 Request Timeout: the request did not arrive within 3 s\n" for a in begun + dripped)
    for answer in late_oai:  # the verb had not arrived: badVerb
        assert b'<error code="badVerb">the request did not arrive within 3 s</error>' in answer.body, answer
    assert all(a.closed and a.raw == b"" for a in quiet), quiet
    for answer in late_oai + begun + dripped + quiet:
        assert READ_SECONDS - 0.2 < answer.seconds < READ_SECONDS + POLL + 1.5, answer
    for sock, _ in keepers:
        sock.close()
    counted = samples(server.url)
    assert counted[("kutubxona_refused_requests_total", (("status", "408"),))] == 18
    lines = [json.loads(line) for line in server.stop()]
    late = [x for x in lines if x["message"].startswith("closed a connection whose request did not arrive")]
    assert len(late) == 18 and all(x["level"] == "warning" for x in late)


def test_an_answer_nobody_reads_gives_its_thread_back(serve: Callable[..., Served], cli, tmp_path: Path):  # noqa: ANN001
    import_json(cli, write(tmp_path / "a.mrc", marc("F1", "Katta fayl")))
    big = tmp_path / "katta.bin"
    big.write_bytes(os.urandom(24 << 20))  # far more than the sockets' buffers hold
    cli("attach", "F1", big, "--ocr", "never")
    server = serve(threads=2, RESPONSE_SEND_SECONDS="2", LOG_FORMAT="json", STORAGE_URL=(tmp_path / "objects").as_uri())
    # as many clients as threads ask for the file and never read a byte of it
    takers = []
    for _ in range(2):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET /records/F1/files/katta.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        takers.append(sock)
    time.sleep(1)
    # each thread gives its answer up 2 s after the client last took any of it; the probe is then served
    answer = exchange(server.port, HEALTHZ, timeout=20)
    assert answer.status in (200, 503), answer
    assert exchange(server.port, HEALTHZ, timeout=5).status == 200
    for sock in takers:
        sock.close()
    lines = [json.loads(line) for line in server.stop()]
    abandoned = [x for x in lines if x["message"].startswith("abandoned an answer to /records/F1/files/katta.bin")]
    assert len(abandoned) == 2 and all(x["level"] == "warning" for x in abandoned), lines


@pytest.mark.parametrize("sending", [_Sending, socket.socket])
def test_a_slow_but_steady_reader_is_not_cut_off(sending: type[socket.socket]):
    """The send timeout bounds a wait for the client to take anything, not a whole write: 1 MiB read at
    about 1 MB/s outlasts a timeout of 0.3 s and is still sent whole (Python's own sendall gives up)."""
    server, client = socket.socketpair()
    server.__class__ = sending
    server.settimeout(0.3)
    got = bytearray()

    def read() -> None:
        while chunk := client.recv(64 << 10):
            got.extend(chunk)
            time.sleep(0.05)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        server.sendall(os.urandom(1 << 20))
        sent = True
    except TimeoutError:
        sent = False
    server.close()
    reader.join()
    client.close()
    assert sent == (sending is _Sending) and (len(got) == 1 << 20) == sent


def worker_of(server: Served) -> int:
    """The process id of the server's one worker (a child of the gunicorn master)."""
    children = [int(stat.split()[0]) for stat in (p.read_text() for p in Path("/proc").glob("[0-9]*/stat"))
                if int(stat.rsplit(")", 1)[1].split()[1]) == server.proc.pid]  # fmt: skip
    assert len(children) == 1, children
    return children[0]


# above worker_connections and the worker's own descriptors (some twenty); below worker_connections
@pytest.mark.parametrize("open_files", [300, 100])
def test_connections_past_the_worker_s_open_files_never_end_it(
    serve: Callable[..., Served], monkeypatch: pytest.MonkeyPatch, open_files: int
):
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--worker-connections 100")
    server = serve(threads=2, REQUEST_READ_SECONDS=str(READ_SECONDS))
    worker = worker_of(server)
    resource.prlimit(worker, resource.RLIMIT_NOFILE, (open_files, open_files))
    idle = [connect(server.port)[0] for _ in range(90)]
    # answered 400 at once, then kept open by the client: the worker reads each until it closes, for 2 s
    refused = [connect(server.port, b"GARBAGE\r\n\r\n")[0] for _ in range(250)]
    answer = exchange(server.port, HEALTHZ, timeout=30)
    assert answer.status == 200, answer
    assert worker_of(server) == worker  # the same worker: it did not die and take every connection with it
    for sock in idle + refused:
        sock.close()
    log = "\n".join(server.stop())
    assert "Exception in worker process" not in log and "OSError" not in log, log[-3000:]
    assert ("cannot accept a connection (Too many open files)" in log) == (open_files < 200)


def test_a_request_is_read_whole_and_keep_alive_pipelining_and_100_continue_still_work(serve):  # noqa: ANN001
    import http.client

    server = serve(threads=2)
    # three requests on one kept-alive connection
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(3):
        conn.request("GET", "/oai?verb=Identify")
        resp = conn.getresponse()
        assert resp.status == 200 and b"<Identify>" in resp.read() and not resp.will_close
        if _ == 0:
            first = conn.sock
    assert conn.sock is first
    conn.close()
    # two requests sent at once: two answers, in order
    both = exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + IDENTIFY)
    assert both.raw.count(b"HTTP/1.1 200 OK\r\n") == 2 and both.raw.index(b'"ok"') < both.raw.index(b"<Identify>")
    # a client that waits for 100 Continue before its body gets it once, then the answer
    sock, opened = connect(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Expect: 100-continue\r\n"
                           b"Content-Length: 13\r\nConnection: close\r\n\r\n")  # fmt: skip
    sock.settimeout(2)
    assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(b"verb=Identify")
    continued = read_to_close(sock, opened, 10)
    assert continued.status == 200 and b"<Identify>" in continued.body and b"100 Continue" not in continued.raw
    # a chunked body, sent in two parts
    sock, opened = connect(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Transfer-Encoding: chunked\r\n"
                           b"Connection: close\r\n\r\n5\r\nverb=\r\n")  # fmt: skip
    time.sleep(0.3)
    sock.sendall(b"8;note=x\r\nIdentify\r\n0\r\n\r\n")
    chunked = read_to_close(sock, opened, 10)
    assert chunked.status == 200 and b"<Identify>" in chunked.body
    # a body announced past the OAI limit is refused at once, without waiting for it
    too_big = exchange(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Content-Length: 100000\r\n\r\n"
                       b"verb=Identify", timeout=3)  # fmt: skip
    assert too_big.closed and too_big.status == 413 and too_big.seconds < 2, too_big
    # and so is a chunked one that goes past it
    chunks = b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(17))
    too_big = exchange(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Transfer-Encoding: chunked\r\n"
                       b"\r\n" + chunks + b"0\r\n\r\n", timeout=3)  # fmt: skip
    assert too_big.closed and too_big.status == 413 and b"at most 65536 bytes" in too_big.body, too_big


@pytest.fixture
def server(serve: Callable[..., Served], silent_port: int) -> Served:
    """One worker of two threads, shedding requests that waited over 300 ms, logging JSON; its search
    index never answers, so each /readyz holds a thread for two seconds."""
    return serve(threads=2, SHED_AFTER_MS="300", LOG_FORMAT="json", SEARCH_URL=f"http://127.0.0.1:{silent_port}")


def test_requests_that_wait_past_the_limit_are_shed_with_retry_after(server: Served):
    held: list[int] = []
    holders = [threading.Thread(target=lambda: held.append(get(server.url + "/readyz")[0])) for _ in range(2)]
    for t in holders:
        t.start()
    time.sleep(0.3)  # both threads of the worker are now waiting on the search index
    quick: list[tuple[int, dict]] = []
    askers = [threading.Thread(target=lambda: quick.append(get(server.url + "/healthz")[:2])) for _ in range(6)]
    for t in askers:
        t.start()
    for t in holders + askers:
        t.join(timeout=30)
    # the slow probes were answered; what queued behind them past 300 ms was told to come back
    assert held == [503, 503]
    assert [status for status, _ in quick] == [503] * 6
    assert all(headers["Retry-After"] == "5" for _, headers in quick)
    # with the queue empty again, requests are served at once
    assert get(server.url + "/healthz")[0] == 200
    assert exchange(server.port, b"POST /oai HTTP/1.1\r\nHost: x\r\n" + FORM + b"Content-Length: 13\r\n"
                    b"Connection: close\r\n\r\nverb=Identify").status == 200  # fmt: skip
    counted = samples(server.url)
    assert counted[("kutubxona_shed_requests_total", ())] == 6
    assert counted[("kutubxona_oai_requests_total", (("outcome", "ok"), ("verb", "Identify")))] == 1
    assert (
        counted[("kutubxona_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))] == 1
    )
    # every log line is a JSON object: gunicorn's own, the access log and the app's
    lines = [json.loads(line) for line in server.stop()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    shed = [x for x in lines if x["message"].startswith("shed a request that waited")]
    assert len(shed) == 6 and all(x["level"] == "warning" for x in shed)
    access = [x for x in lines if x["logger"] == "gunicorn.access"]
    assert {(x["method"], x["path"], x["status"]) for x in access} >= {("POST", "/oai", 200), ("GET", "/healthz", 200),
                                                                         ("GET", "/readyz", 503)}  # fmt: skip
    assert all(isinstance(x["duration_ms"], float) for x in access)


@pytest.mark.parametrize(
    ("options", "said"),
    [(["--certfile", "cert.pem", "--keyfile", "key.pem"], "gunicorn's TLS (certfile, keyfile) is not served"),
     (["--proxy-protocol", "v1"], "the PROXY protocol and uwsgi are not served")],
)  # fmt: skip
def test_gunicorn_settings_the_worker_cannot_read_stop_it_at_start(tmp_path: Path, options: list[str], said: str):
    for name in ("cert.pem", "key.pem"):
        (tmp_path / name).touch()
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:repository.web.serving", *options, "--bind",
         f"127.0.0.1:{free_port()}", "repository.wsgi:app"],
        cwd=tmp_path, env={**os.environ, "KUTUBXONA_VAR_DIR": str(tmp_path / "var")}, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and f"repository.web.serving: {said}; " in done.stderr.decode()
