"""Fixtures of the web tests that run real servers: `kutubxona serve` as shipped, and a port that never answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


class Served:
    """A running `kutubxona serve`: its address, and its log lines once stopped."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port, self.url = proc, port, f"http://127.0.0.1:{port}"
        self.log: list[str] = []

    def stop(self) -> list[str]:
        """Stop the server (SIGTERM, as an orchestrator does) and return what it logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.log = self.proc.stdout.read().decode().splitlines()
            self.proc.stdout.close()
        return self.log


@pytest.fixture
def serve(db_url: str, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start `kutubxona serve` (one worker of ``threads`` threads) on the test database, with more
    ``KUTUBXONA_*`` settings given by name (``SHED_AFTER_MS="300"``); every one started is stopped."""
    started: list[Served] = []

    def start(threads: int = 2, **settings: str) -> Served:
        port = free_port()
        env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / "var"),
               "KUTUBXONA_AUTO_MIGRATE": "no", **{f"KUTUBXONA_{k}": v for k, v in settings.items()}}  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "repository.cli", "serve", "--port", str(port), "--workers", "1",
             "--threads", str(threads)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        served = Served(proc, port)
        started.append(served)
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert time.monotonic() < deadline and proc.poll() is None, "kutubxona serve did not start"
            time.sleep(0.2)
        return served

    yield start
    for served in started:
        served.stop()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a hung database or search)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()
