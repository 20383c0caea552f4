"""HTTP/1.1 as bytes on a socket, for what an ordinary client never sends: stalls, drips, raw bytes."""

from __future__ import annotations

import selectors
import socket
import time
from dataclasses import dataclass


@dataclass
class Answer:
    """What the server sent on one connection until it closed it, and when that was."""

    raw: bytes
    seconds: float  # from the connection's opening to the server's close (or the reader giving up)
    closed: bool  # the server closed the connection (False: the reader gave up waiting)

    def _final(self) -> tuple[bytes, bytes]:
        """The head and body of the final answer: interim 1xx answers (100 Continue) skipped."""
        rest = self.raw
        while True:
            head, _, rest = rest.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 1"):
                return head, rest

    @property
    def status(self) -> int:
        """The status of the final answer (0 when nothing came)."""
        head = self._final()[0]
        return int(head.split(b" ", 2)[1]) if head else 0

    @property
    def headers(self) -> dict[str, str]:
        """The final answer's header fields."""
        lines = self._final()[0].decode("latin-1").split("\r\n")[1:]
        return {name.strip(): value.strip() for name, _, value in (line.partition(":") for line in lines)}

    @property
    def body(self) -> bytes:
        """The final answer's body."""
        return self._final()[1]


def readable(sock: socket.socket, timeout: float) -> bool:
    """True when ``sock`` has something to read (or was closed) within ``timeout`` seconds.

    Through poll or epoll, not select(): a test process may hold more than 1024 descriptors, past which
    select() refuses a socket.
    """
    with selectors.DefaultSelector() as waiting:
        waiting.register(sock, selectors.EVENT_READ)
        return bool(waiting.select(timeout))


def connect(port: int, data: bytes = b"") -> tuple[socket.socket, float]:
    """A new connection to the server, ``data`` sent on it; and when it was opened."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    opened = time.monotonic()
    if data:
        sock.sendall(data)
    return sock, opened


def read_to_close(sock: socket.socket, opened: float, timeout: float) -> Answer:
    """Read until the server closes the connection, at most until ``timeout`` after ``opened``."""
    chunks: list[bytes] = []
    closed = False
    try:
        while (left := opened + timeout - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            chunks.append(chunk)
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    finally:
        seconds = time.monotonic() - opened
        sock.close()
    return Answer(b"".join(chunks), seconds, closed)


def exchange(port: int, data: bytes, timeout: float = 10) -> Answer:
    """Send ``data`` on a new connection and read the answer until the server closes it."""
    sock, opened = connect(port, data)
    return read_to_close(sock, opened, timeout)
