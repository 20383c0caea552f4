"""Load shedding under `kutubxona serve`: a request that waited too long for a thread is answered 503."""

from __future__ import annotations

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

from tests.web.test_site import get

BODY = b"verb=Identify"
TRICKLE = 0.12  # seconds between the bytes of a slow client's body: 13 bytes hold a thread for 1.5 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[str]:
    """`kutubxona serve` with one worker of two threads, shedding requests that waited over 300 ms."""
    port = free_port()
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
           "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_SHED_AFTER_MS": "300"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "repository.cli", "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert time.monotonic() < deadline and proc.poll() is None, "kutubxona serve did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stderr.close()


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


def test_requests_that_wait_past_the_limit_are_shed_with_retry_after(server: str):
    port = int(server.rsplit(":", 1)[1])
    slow: list[bytes] = []
    holders = [threading.Thread(target=slow_post, args=(port, slow)) for _ in range(2)]
    for t in holders:
        t.start()
    time.sleep(0.3)  # both threads of the worker are now reading a slow body
    quick: list[tuple[int, dict]] = []
    askers = [threading.Thread(target=lambda: quick.append(get(server + "/healthz")[:2])) for _ in range(6)]
    for t in askers:
        t.start()
    for t in holders + askers:
        t.join(timeout=30)
    # the slow clients were served; what queued behind them past 300 ms was told to come back
    assert len(slow) == 2 and all(a.startswith(b"HTTP/1.1 200") and b"<Identify>" in a for a in slow)
    assert [status for status, _ in quick] == [503] * 6
    assert all(headers["Retry-After"] == "5" for _, headers in quick)
    # with the queue empty again, requests are served at once
    assert get(server + "/healthz")[0] == 200
