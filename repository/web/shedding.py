"""Load shedding in front of the app: a gunicorn worker that answers 503 to a request that waited too long.

gunicorn's gthread worker accepts connections as fast as they come and queues them for its threads
without bound, so under a flood every request waits behind all the others and every client times
out.  This worker notes when a request was queued; a thread that takes up a request which has
waited more than ``KUTUBXONA_SHED_AFTER_MS`` answers at once with 503 and ``Retry-After`` (a
harvester backs off, OAI-PMH 3.1.2.2), so the queue empties quickly and the requests behind it
start while they are still fresh.  ``kutubxona serve`` runs its workers with this class.
"""

from __future__ import annotations

import socket
import time

from gunicorn.workers.gthread import ThreadWorker

from repository import config

RETRY_AFTER = 5  # seconds: long enough for a queue to drain, short for a harvester's patience
_BODY = b"503 Service Unavailable: the server is busy; try again in a few seconds\n"
_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Retry-After: %d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
    b"Cache-Control: no-store\r\nConnection: close\r\n\r\n%s" % (RETRY_AFTER, len(_BODY), _BODY)
)


class SheddingWorker(ThreadWorker):
    """gthread, except that a request queued longer than the limit is answered 503 instead of served."""

    shed_after = 0.5  # seconds; 0 = never shed

    def init_process(self) -> None:
        """Read the limit from the settings, then start as gthread does."""
        self.shed_after = config.load().shed_after_ms / 1000
        super().init_process()

    def enqueue_req(self, conn) -> None:  # noqa: ANN001 - gunicorn's TConn
        """Note when the request was queued (a new connection, or the next request of a kept-alive one)."""
        conn.kutubxona_queued = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):  # noqa: ANN001, ANN201 - gunicorn's signature
        """Serve the request, or answer 503 when it waited past the limit for this thread."""
        waited = time.monotonic() - getattr(conn, "kutubxona_queued", time.monotonic())
        if not self.shed_after or waited <= self.shed_after:
            return super().handle(conn)
        self.log.warning("shed a request that waited %.0f ms for a thread: answered 503", waited * 1000)
        refuse(conn.sock)
        return False  # the connection is closed, not kept alive


def refuse(sock: socket.socket) -> None:
    """Answer 503 on a connection whose request is not read, and close it so the client sees the answer."""
    try:
        sock.setblocking(False)
        try:
            while sock.recv(65536):  # what has arrived of the request: unread bytes would reset the connection
                pass
        except (BlockingIOError, InterruptedError):
            pass
        sock.setblocking(True)
        sock.settimeout(1.0)
        sock.sendall(_ANSWER)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the client has gone: nothing to answer
