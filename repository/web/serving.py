"""How gunicorn runs the app (gunicorn is imported here only): ``kutubxona serve`` passes this module
as gunicorn's configuration (``-c python:repository.web.serving``).

- Load shedding.  gunicorn's gthread worker accepts connections as fast as they come and queues
  them for its threads without bound, so under a flood every request waits behind all the others
  and every client times out.  ``SheddingWorker`` notes when a request was queued; a thread that
  takes up a request which has waited more than ``KUTUBXONA_SHED_AFTER_MS`` answers at once with
  503 and ``Retry-After`` (a harvester backs off, OAI-PMH 3.1.2.2), so the queue empties quickly
  and the requests behind it start while they are still fresh.
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

import logging
import os
import shutil
import socket
import time
from pathlib import Path

from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from repository import logs
from repository.config import load as load_settings  # not "config": a gunicorn setting of that name
from repository.services import open_database

# the metrics module is imported by the workers only, once on_starting has set where counts go
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"

worker_class = "repository.web.serving.SheddingWorker"
accesslog = "-"

RETRY_AFTER = 5  # seconds: long enough for a queue to drain, short for a harvester's patience
_BODY = b"503 Service Unavailable: the server is busy; try again in a few seconds\n"
_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Retry-After: %d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
    b"Cache-Control: no-store\r\nConnection: close\r\n\r\n%s" % (RETRY_AFTER, len(_BODY), _BODY)
)


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's server hook
    """Before any worker starts: the schema migrated once (when the settings say so; workers migrating
    at once would lock each other out of SQLite), and an empty folder for this run's counts."""
    settings = load_settings()
    open_database(settings).dispose()
    folder = Path(os.environ.get(MULTIPROCESS) or settings.var_dir / "metrics")
    shutil.rmtree(folder, ignore_errors=True)  # a new start, new counts
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS] = str(folder)


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's server hook
    """A worker has ended: its metrics files are merged and closed (prometheus_client multiprocess mode)."""
    from repository.web import metrics

    metrics.worker_exited(worker.pid)


class SheddingWorker(ThreadWorker):
    """gthread, except that a request queued longer than the limit is answered 503 instead of served."""

    shed_after = 0.5  # seconds; 0 = never shed

    def init_process(self) -> None:
        """Read the limit from the settings, then start as gthread does."""
        self.shed_after = load_settings().shed_after_ms / 1000
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
        from repository.web import metrics  # imported already by the app, in this worker

        metrics.count_shed()
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
