"""Prometheus metrics at ``/metrics`` (prometheus_client, imported here only).

Requests by route and status and their latency, OAI-PMH requests by verb and outcome and the
resumption tokens issued, requests shed under load or refused by the HTTP server, and, read from
the catalogue when scraped, records by state, the search index's backlog and background jobs by
state.  Under gunicorn (``kutubxona serve``) every worker writes its counts to files in
``PROMETHEUS_MULTIPROC_DIR`` (set by ``serving.on_starting``), and a scrape of any worker adds them
all up.
"""

from __future__ import annotations

import os
import re
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from repository.catalogue import queries
from repository.jobs import queue
from repository.oai.verbs import VERBS
from repository.web import services

bp = Blueprint("metrics", __name__)
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("kutubxona_http_requests", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram("kutubxona_http_request_seconds", "Time to answer an HTTP request", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))  # fmt: skip
OAI = Counter("kutubxona_oai_requests", "OAI-PMH requests by verb and outcome (ok or the error code)",
              ["verb", "outcome"])  # fmt: skip
TOKENS = Counter("kutubxona_oai_tokens_issued", "Resumption tokens issued (a list continues)", ["verb"])
SHED = Counter("kutubxona_shed_requests",
               "Requests answered 503 under load: they waited too long for a thread, or too many album PDFs "
               "were being made")  # fmt: skip
REFUSED = Counter("kutubxona_refused_requests", "Requests the HTTP server answered itself, before the app "
                  "(408 too slow, 400 malformed, 414 request line too long, 431 header fields too large)",
                  ["status"])  # fmt: skip

_ERROR = re.compile(rb'<error code="([A-Za-z]+)"')
_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def init(app: Flask) -> None:
    """Time and count every request of ``app``."""
    app.before_request(_start)
    app.after_request(_count)


def _start() -> None:
    g.kutubxona_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("kutubxona_started", None)
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"  # bounded: routes, not paths
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(route).observe(time.perf_counter() - started)
    return response


def count_oai(verb: str, body: bytes) -> None:
    """Count an OAI-PMH answer: its outcome, and whether it issued a resumption token."""
    verb = verb if verb in VERBS else "other"  # a label takes known values only, whatever a client sends
    error = _ERROR.search(body)
    OAI.labels(verb, error.group(1).decode() if error else "ok").inc()
    # the token closes a list page: look at its end only
    if error is None and _TOKEN.search(body, max(0, len(body) - 2048)):
        TOKENS.labels(verb).inc()


def count_shed() -> None:
    """Count a request answered 503 by the load shedding (a thread waited for too long, an album gate full)."""
    SHED.inc()


def count_refused(status: int) -> None:
    """Count a request the HTTP server refused before the app saw it (by its status)."""
    REFUSED.labels(str(status)).inc()


def worker_exited(pid: int) -> None:
    """Let go of the counts of a gunicorn worker that has ended (its live gauges would linger)."""
    if os.environ.get(MULTIPROCESS):
        mark_process_dead(pid)


class _Catalogue:
    """What the catalogue and the search index hold, read when scraped."""

    def collect(self):  # noqa: ANN201 - prometheus_client's collector protocol
        svc = services()
        with svc.db.reading() as session:
            counts = queries.record_counts(session)
        records = GaugeMetricFamily("kutubxona_records", "Records in the catalogue by state", labels=["state"])
        for state, n in counts.items():
            records.add_metric([state], n)
        yield records
        yield GaugeMetricFamily("kutubxona_search_backlog", "Records changed and not yet indexed",
                                value=svc.search.state.pending_count())  # fmt: skip
        jobs = GaugeMetricFamily("kutubxona_jobs", "Background jobs by state", labels=["state"])
        for state, n in queue.counts(svc.db).items():
            jobs.add_metric([state], n)
        yield jobs


@bp.get("/metrics")
def metrics() -> Response:
    """The Prometheus text exposition of this node (all its workers)."""
    if os.environ.get(MULTIPROCESS):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    catalogue = CollectorRegistry()
    catalogue.register(_Catalogue())
    return Response(generate_latest(registry) + generate_latest(catalogue), mimetype=CONTENT_TYPE_LATEST)
