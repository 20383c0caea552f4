"""How gunicorn runs the app (gunicorn is imported here only): ``kutubxona serve`` passes this module
as gunicorn's configuration (``-c python:repository.web.serving``).

- Slow clients.  gthread gives a connection to a thread as soon as it is accepted, and the thread
  reads the request: a client that sends its request slowly, or announces a body it never sends,
  holds that thread for as long as it likes, and a handful of them hold them all.
  ``SheddingWorker`` reads each request whole (head and body, within the body limits) in its event
  loop, without blocking, and only then gives it to a thread, which parses the bytes already read
  and never waits on the client.  A request not whole within ``KUTUBXONA_REQUEST_READ_SECONDS`` of
  its first byte is answered 408 and its connection closed (``intake``).  A slow client costs a
  connection (gunicorn's ``worker_connections``, 1000 per worker), not a thread.  Closing a
  connection no longer waits in the event loop for the client to close its side either; until the
  socket is closed it still counts as one of the worker's connections.  A worker out of file
  descriptors stops accepting for a moment (``PAUSE``) instead of ending with every connection it held.
- Limits and refusals.  A request line may be ``KUTUBXONA_REQUEST_LINE_BYTES`` long (gunicorn's
  own limit stops at 8190 bytes, too short for a long resumption token: it is lifted here and the
  worker's reading bounds the line instead), the header fields 64 KiB in all.  What the server
  refuses itself is answered in OAI-PMH's XML at ``/oai`` and in one line of plain text elsewhere,
  never in gunicorn's HTML page (``handle_error``).
- Load shedding.  gunicorn's gthread worker queues requests for its threads without bound, so
  under a flood every request waits behind all the others and every client times out.
  ``SheddingWorker`` notes when a request was queued; a thread that takes up a request which has
  waited more than ``KUTUBXONA_SHED_AFTER_MS`` answers at once with 503 and ``Retry-After`` (a
  harvester backs off, OAI-PMH 3.1.2.2), so the queue empties quickly and the requests behind it
  start while they are still fresh.
- Logs.  With ``KUTUBXONA_LOG_FORMAT=json``, ``JsonLogger`` writes gunicorn's lines and its access
  log as JSON objects (``repository.logs``), one per line.
- Start.  ``on_starting`` applies pending migrations once, before the workers start (when the
  settings migrate at start: the embedded default).
- Metrics.  ``on_starting`` also gives the workers a fresh folder to write their counts in
  (``PROMETHEUS_MULTIPROC_DIR``, by default ``VAR_DIR/metrics``), before any of them imports
  prometheus_client, so that a scrape of any worker adds them all up; ``child_exit`` lets go of
  the counts of a worker that has ended.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import shutil
import socket
import sys
import threading
import time
from functools import partial
from pathlib import Path

from gunicorn.glogging import Logger
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import Unreader
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import TConn, ThreadWorker

from repository import logs
from repository.config import load as load_settings  # not "config": a gunicorn setting of that name
from repository.services import open_database
from repository.web import intake

# the metrics module is imported by the workers only, once on_starting has set where counts go
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"

worker_class = "repository.web.serving.SheddingWorker"
accesslog = "-"
limit_request_line = 0  # gunicorn's "no limit": the worker bounds the line itself (KUTUBXONA_REQUEST_LINE_BYTES)

RETRY_AFTER = 5  # seconds: long enough for a queue to drain, short for a harvester's patience
_BODY = b"503 Service Unavailable: the server is busy; try again in a few seconds\n"
_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Retry-After: %d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
    b"Cache-Control: no-store\r\nConnection: close\r\n\r\n%s" % (RETRY_AFTER, len(_BODY), _BODY)
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
RECEIVE = 65536  # bytes read from a client at a time
LINGER, LINGER_BYTES = 2.0, 65536  # how long, and how much, a closed connection is read (as gunicorn does)
# accept() failing for want of a descriptor (the process's or the system's) or of kernel memory
_OUT_OF_DESCRIPTORS = frozenset((errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM))
PAUSE = 0.5  # seconds without accepting after such a failure, for connections to end and give theirs back


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's server hook
    """Before any worker starts: the schema migrated once (when the settings say so; workers migrating
    at once would lock each other out of SQLite), and an empty folder for this run's counts."""
    unread = _unreadable(server.cfg)
    if unread:
        sys.exit(f"repository.web.serving: {unread}; the worker reads plain HTTP/1.1 itself (put TLS in the proxy)")
    settings = load_settings()
    open_database(settings).dispose()
    folder = Path(os.environ.get(MULTIPROCESS) or settings.var_dir / "metrics")
    shutil.rmtree(folder, ignore_errors=True)  # a new start, new counts
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS] = str(folder)


def _unreadable(cfg) -> str:  # noqa: ANN001 - gunicorn's Config
    """What in gunicorn's settings the worker's own reading of requests cannot serve ("" when nothing)."""
    if cfg.is_ssl:
        return "gunicorn's TLS (certfile, keyfile) is not served"
    if "h2" in cfg.http_protocols or cfg.http2_cleartext != "off":
        return "HTTP/2 is not served"
    if cfg.proxy_protocol != "off" or getattr(cfg, "protocol", "http") != "http":
        return "the PROXY protocol and uwsgi are not served"
    return ""


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's server hook
    """A worker has ended: its metrics files are merged and closed (prometheus_client multiprocess mode)."""
    from repository.web import metrics

    metrics.worker_exited(worker.pid)


class _Sending(socket.socket):
    """A connection whose ``sendall`` gives up only when the client takes nothing for the socket's
    timeout: Python's own ``sendall`` bounds the whole call, which would cut off a slow but steady
    reader of a large answer (a 1 MiB chunk of a file at 10 KB/s takes 100 s)."""

    __slots__ = ()  # the layout of socket.socket, so that a connection's class can be set to this

    def sendall(self, data: bytes, flags: int = 0) -> None:  # type: ignore[override]
        """Send all of ``data``, each part within the timeout (TimeoutError when the client takes none)."""
        view = memoryview(data).cast("B")
        while view:
            view = view[self.send(view, flags) :]


class SheddingWorker(ThreadWorker):
    """gthread, except that each request is read whole by the event loop before a thread serves it,
    and a request queued longer than the limit for a thread is answered 503 instead of served."""

    shed_after = 0.5  # seconds; 0 = never shed

    def init_process(self) -> None:
        """Read the limits from the settings, then start as gthread does."""
        from repository.web import MAX_BODY
        from repository.web.oai import MAX_POST, oai_settings  # in the worker: it imports the metrics

        settings = load_settings()
        self.shed_after = settings.shed_after_ms / 1000
        self.send_seconds = settings.response_send_seconds
        self.limits = intake.Limits(line=settings.request_line_bytes, body=MAX_BODY, oai_body=MAX_POST,
                                    seconds=settings.request_read_seconds)  # fmt: skip
        self.oai = oai_settings(settings)
        self.reading: dict[Reading, None] = {}  # requests arriving, oldest first (they end in that order)
        # closed connections read until the client closes: (deadline, bytes still to drop)
        self.lingering: dict[socket.socket, tuple[float, int]] = {}
        self.serving = threading.local()  # the request a thread serves, for handle_error
        self.paused_until = 0.0  # no new connection is accepted before this (monotonic) time
        super().init_process()

    # ---------------------------------------------------------------- reading requests in the event loop

    def accept(self, listener: socket.socket) -> None:
        """A new connection: its request is read by the event loop (gthread would give it a thread)."""
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:
                # gthread let this end the worker, and with it every connection it held (a thousand idle connections
                # did it wherever the limit of open files is 1024, as in a login shell): wait for some to end instead
                self.log.warning("cannot accept a connection (%s): none is accepted for %g s", exc.strerror, PAUSE)
                self.paused_until = time.monotonic() + PAUSE
                self.set_accept_enabled(False)
            elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._read(Connection(self, self.cfg, sock, client, listener.getsockname()), b"")

    def set_accept_enabled(self, enabled: bool) -> None:
        """Accept connections again only once a pause for want of descriptors is over (the loop asks each turn)."""
        if enabled and time.monotonic() < self.paused_until:
            return
        super().set_accept_enabled(enabled)

    def enqueue_req(self, conn: TConn) -> None:
        """gthread's hand-over of a kept-alive connection's next request: read it first; a request sent
        behind the last one (pipelined) may have arrived already."""
        self._read(conn, conn.parser.unreader.take_buffered() if conn.parser is not None else b"")

    def _read(self, conn: TConn, data: bytes) -> None:
        reading = Reading(conn, intake.Incoming(self.limits, data), time.monotonic() + self.limits.seconds)
        conn.sock.setblocking(False)
        if data and self._settle(reading, reading.incoming.feed()):
            return
        self._more(reading)
        self.reading[reading] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, reading))

    def _readable(self, reading: Reading, sock: socket.socket) -> None:
        try:
            chunk = sock.recv(RECEIVE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        verdict = reading.incoming.feed(chunk) if chunk else None
        if verdict == intake.MORE:
            self._more(reading)
            return
        self.poller.unregister(sock)
        del self.reading[reading]
        if verdict is None:  # the client has gone, or closed before a whole request
            self._close(reading.conn)
        else:
            self._settle(reading, verdict)

    def _more(self, reading: Reading) -> None:
        """More of the request is awaited: a client that waits for 100 Continue before its body gets it."""
        if reading.incoming.continue_due:
            reading.incoming.continue_due = False
            _send_now(reading.conn.sock, CONTINUE)

    def _settle(self, reading: Reading, verdict: str) -> bool:
        """Act on a verdict: a thread serves a request that is ready, the server answers one it refuses."""
        if verdict == intake.READY:
            self._serve(reading.conn, reading.incoming)
        elif verdict == intake.REFUSED:
            refusal = reading.incoming.refusal
            self.log.warning("Invalid request from ip=%s: %s", (reading.conn.client or ("", -1))[0], refusal.message)
            self._refuse(reading, refusal.status, refusal.reason, refusal.message)
        return verdict != intake.MORE

    def _serve(self, conn: TConn, incoming: intake.Incoming) -> None:
        conn.kutubxona_request = incoming
        conn.kutubxona_queued = time.monotonic()  # from here the request waits for a thread
        super().enqueue_req(conn)

    def _refuse(self, reading: Reading, status: int, reason: str, message: str) -> None:
        from repository.web import metrics  # imported already by the app, in this worker

        metrics.count_refused(status)
        _send_now(reading.conn.sock, intake.answer(status, reason, message, reading.incoming.data, self.oai))
        self._close(reading.conn)

    def _close(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close(graceful=True)

    def murder_pending(self) -> None:
        """Besides gthread's own: answer 408 to a request not whole by its deadline (or close a connection
        that has sent nothing), and let go of closed connections whose clients did not close in time."""
        super().murder_pending()
        now = time.monotonic()
        for reading in list(self.reading):
            if reading.deadline > now:
                if self.alive:
                    break  # the rest began later
                if reading.incoming.data:
                    continue  # a stopping worker still serves a request on its way, and closes silent ones
            self.poller.unregister(reading.conn.sock)
            del self.reading[reading]
            if not reading.incoming.data:
                self._close(reading.conn)
                continue
            seconds = self.limits.seconds
            self.log.warning("closed a connection whose request did not arrive within %g s: answered 408", seconds)
            self._refuse(reading, 408, "Request Timeout", f"the request did not arrive within {seconds:g} s")
        for sock, (deadline, _) in list(self.lingering.items()):
            if deadline > now:
                break
            self._let_go(sock)

    # -------------------------------------------- closing without waiting on the client (RFC 9112 9.6)

    def linger(self, sock: socket.socket) -> None:
        """Close a connection once the client has read the answer: stop writing, then read and drop what
        it still sends until it closes too (at most LINGER seconds), in the event loop.  gunicorn waits
        for that in the event loop itself, so a client that keeps an answered connection open stalled
        every other connection of the worker for two seconds."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, self._drain)
        except (OSError, ValueError, KeyError):
            sock.close()
            return
        # counted as a connection until it is closed: it holds a descriptor, and uncounted, closed connections
        # arriving faster than they end took the worker past its open files, beyond worker_connections
        self.nr_conns += 1
        self.lingering[sock] = (time.monotonic() + LINGER, LINGER_BYTES)

    def _drain(self, sock: socket.socket) -> None:
        try:
            dropped = len(sock.recv(RECEIVE))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            dropped = 0
        deadline, left = self.lingering[sock]
        if 0 < dropped < left:
            self.lingering[sock] = (deadline, left - dropped)
        else:  # the client has closed (or sends too much to wait for)
            self._let_go(sock)

    def _let_go(self, sock: socket.socket) -> None:
        self.poller.unregister(sock)
        del self.lingering[sock]
        sock.close()
        self.nr_conns -= 1

    # --------------------------------------------------------------------------------- the threads' side

    def handle(self, conn):  # noqa: ANN001, ANN201 - gunicorn's signature
        """Serve the request, or answer 503 when it waited past the limit for this thread."""
        waited = time.monotonic() - conn.kutubxona_queued
        if self.shed_after and waited > self.shed_after:
            self.log.warning("shed a request that waited %.0f ms for a thread: answered 503", waited * 1000)
            from repository.web import metrics  # imported already by the app, in this worker

            metrics.count_shed()
            refuse(conn.sock)
            return False  # the connection is closed, not kept alive
        incoming = self.serving.incoming = conn.kutubxona_request
        conn.init()
        # the thread parses the bytes the event loop read, and never waits on the client for more
        conn.parser.unreader = Held(bytes(incoming.data))
        return super().handle(conn)

    def handle_request(self, req, conn):  # noqa: ANN001, ANN201 - gunicorn's signature
        """Serve as gthread does; the event loop has answered any 100-continue, and a request handed over
        without its body closes its connection after the answer (the rest of the body is never read).

        A chunked body, all here, is read by gunicorn's parser before the app: the event loop only finds
        where it ends, and a fault of RFC 9112 7.1 that it let pass (a space after a chunk's size, a line
        feed in an extension, a Content-Length among the trailers) raised inside the app (an HTML 500 at
        /oai), or, in a body the app never read, after its answer (a second answer on the connection).
        Read here, it is the server's 400 like any request it cannot read.
        """
        req._expected_100_continue = False  # gunicorn would send "100 Continue" a second time
        if conn.kutubxona_request.body_unread:
            req.force_close()
        elif isinstance(req.body.reader, ChunkedReader):
            body = req.body.read()
            req.body = Body(LengthReader(Held(body), len(body)))
        # a client that takes none of its answer for this long gives the thread back: without it, a
        # client that asked for a large file and never read it held a thread for good (set here, as
        # gthread's handle makes the socket blocking again after handle has begun)
        conn.sock.__class__ = _Sending
        conn.sock.settimeout(self.send_seconds)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:  # the socket's send timeout (handle): one line, not gthread's traceback
            self.log.warning("abandoned an answer to %s: the client took none of it for %d s", req.path,
                             self.send_seconds)  # fmt: skip
            return False  # the connection is closed

    def handle_error(self, req, client, addr, exc) -> None:  # noqa: ANN001 - gunicorn's signature
        """A request gunicorn's parser refused (or an error past the app): gunicorn chooses the status and
        logs it, and the answer is ours: OAI-PMH XML at /oai, one line of plain text elsewhere, never
        gunicorn's HTML page."""
        caught = _Caught()
        super().handle_error(req, caught, addr, exc)
        status, reason = caught.status()
        incoming = getattr(self.serving, "incoming", None)
        data = incoming.data if incoming is not None else b""
        if status != 500:  # a request refused, not a failure past the app
            from repository.web import metrics  # imported already by the app, in this worker

            metrics.count_refused(status)
        message = intake.explain(status, str(exc), data)
        try:
            write_nonblock(client, intake.answer(status, reason, message, data, self.oai))
        except OSError:
            self.log.debug("Failed to send error message.")


class Connection(TConn):
    """gthread's connection, closed by its worker without waiting on the client."""

    def __init__(self, worker: SheddingWorker, *args: object) -> None:
        super().__init__(*args)
        self.worker = worker

    def close(self, graceful: bool = False) -> None:
        """Close now, or (graceful) once the client has read the answer, in the worker's event loop."""
        if graceful:
            self.worker.linger(self.sock)
        else:
            super().close()


class Reading:
    """A connection whose request is arriving, and when it must have arrived."""

    __slots__ = ("conn", "deadline", "incoming")

    def __init__(self, conn: TConn, incoming: intake.Incoming, deadline: float) -> None:
        self.conn, self.incoming, self.deadline = conn, incoming, deadline


class Held(Unreader):
    """A request's bytes as the event loop read them, for gunicorn's parser: past them there is nothing."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.buf.write(data)

    def chunk(self, size_hint: int | None = None) -> bytes:
        """Nothing more: the thread never reads the socket."""
        return b""


class _Caught:
    """Stands in for the client socket while gunicorn writes its error page: only its status line is kept."""

    def __init__(self) -> None:
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.written += data

    def status(self) -> tuple[int, str]:
        """The status and reason gunicorn chose (500 when it wrote nothing)."""
        parts = self.written.split(b"\r\n", 1)[0].split(b" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            return int(parts[1]), parts[2].decode("latin-1")
        return 500, "Internal Server Error"


def _send_now(sock: socket.socket, data: bytes) -> None:
    """Send without waiting (a short answer fits the socket's buffer); a client that is gone is let be."""
    with contextlib.suppress(OSError):
        sock.send(data)


def refuse(sock: socket.socket) -> None:
    """Answer 503 to a request a thread will not serve (the connection is closed after it)."""
    try:
        sock.settimeout(1.0)
        sock.sendall(_ANSWER)
    except OSError:
        pass  # the client has gone: nothing to answer


class JsonLogger(Logger):
    """gunicorn's logger with JSON lines: its own messages, and one object per request in the access log."""

    def setup(self, cfg) -> None:  # noqa: ANN001 - gunicorn's Config
        """Set up as gunicorn does, then write every handler's lines as JSON."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(logs.JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:  # noqa: ANN001 - gunicorn's signature
        """One JSON object per request: who asked what, the answer, its size and time."""
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else str(resp.status)
        self.access_log.log(logging.INFO, "%s %s %s", req.method, req.path, status, extra={
            "remote": environ.get("REMOTE_ADDR", "-"),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
        })  # fmt: skip
