"""`kutubxona serve` in production dress: load shedding (a request that waited too long for a thread is
answered 503), metrics summed over the workers, and JSON log lines."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.web.test_site import get

BODY = b"verb=Identify"
TRICKLE = 0.12  # seconds between the bytes of a slow client's body: 13 bytes hold a thread for 1.5 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A running `kutubxona serve`: its address, and its log lines once stopped."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port, self.url = proc, port, f"http://127.0.0.1:{port}"
        self.log: list[str] = []

    def stop(self) -> list[str]:
        """Stop the server (SIGTERM, as an orchestrator does) and return what it logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.log = self.proc.stdout.read().decode().splitlines()
            self.proc.stdout.close()
        return self.log


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Served]:
    """`kutubxona serve`: one worker of two threads, shedding requests that waited over 300 ms, logging JSON."""
    port = free_port()
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_SHED_AFTER_MS": "300",
           "KUTUBXONA_LOG_FORMAT": "json"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "repository.cli", "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    served = Served(proc, port)
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert time.monotonic() < deadline and proc.poll() is None, "kutubxona serve did not start"
            time.sleep(0.2)
        yield served
    finally:
        served.stop()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def slow_post(port: int, answers: list[bytes]) -> None:
    """POST an OAI request whose body arrives a byte at a time: it holds a server thread while it trickles."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /oai HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY))  # fmt: skip
        for byte in BODY:
            time.sleep(TRICKLE)
            sock.sendall(bytes([byte]))
        answers.append(b"".join(iter(lambda: sock.recv(65536), b"")))


def samples(url: str) -> dict[tuple[str, tuple], float]:
    """The metrics of ``url``/metrics as {(sample name, sorted labels): value}."""
    status, headers, body = get(url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}  # fmt: skip


def test_requests_that_wait_past_the_limit_are_shed_with_retry_after(server: Served):
    slow: list[bytes] = []
    holders = [threading.Thread(target=slow_post, args=(server.port, slow)) for _ in range(2)]
    for t in holders:
        t.start()
    time.sleep(0.3)  # both threads of the worker are now reading a slow body
    quick: list[tuple[int, dict]] = []
    askers = [threading.Thread(target=lambda: quick.append(get(server.url + "/healthz")[:2])) for _ in range(6)]
    for t in askers:
        t.start()
    for t in holders + askers:
        t.join(timeout=30)
    # the slow clients were served; what queued behind them past 300 ms was told to come back
    assert len(slow) == 2 and all(a.startswith(b"HTTP/1.1 200") and b"<Identify>" in a for a in slow)
    assert [status for status, _ in quick] == [503] * 6
    assert all(headers["Retry-After"] == "5" for _, headers in quick)
    # with the queue empty again, requests are served at once
    assert get(server.url + "/healthz")[0] == 200
    counted = samples(server.url)
    assert counted[("kutubxona_shed_requests_total", ())] == 6
    assert counted[("kutubxona_oai_requests_total", (("outcome", "ok"), ("verb", "Identify")))] == 2
    assert (
        counted[("kutubxona_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))] == 1
    )
    # every log line is a JSON object: gunicorn's own, the access log and the app's
    lines = [json.loads(line) for line in server.stop()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    shed = [x for x in lines if x["message"].startswith("shed a request that waited")]
    assert len(shed) == 6 and all(x["level"] == "warning" for x in shed)
    access = [x for x in lines if x["logger"] == "gunicorn.access"]
    assert {(x["method"], x["path"], x["status"]) for x in access} >= {("POST", "/oai", 200), ("GET", "/healthz", 200)}
    assert all(isinstance(x["duration_ms"], float) for x in access)
