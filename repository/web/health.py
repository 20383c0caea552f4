"""Probes for a load balancer or an orchestrator: ``/healthz`` (the process answers) and ``/readyz``
(the database, the object store and the search index answer, each within two seconds).

They are public, so they say ready or not and nothing else: what each part answered (the store's
location, the first line of an exception) goes to the log, and ``kutubxona check`` shows it.
"""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, current_app, jsonify

from repository.actions import health
from repository.web import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
RETRY_AFTER = "10"
_KEY = "kutubxona.readiness"
_made = threading.Lock()


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the process can answer at all: restart it when this fails."""
    response = jsonify(status="ok")
    response.cache_control.no_store = True
    return response


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when this node can serve requests, 503 when traffic should go elsewhere (why: in the log)."""
    checks = _readiness()(services())
    failed = [c for c in checks if c.status == health.FAILED]
    if failed:
        log.warning("not ready: %s", "; ".join(f"{c.name} failed ({c.detail})" for c in failed))
    response = jsonify(status="unavailable" if failed else "ready")
    response.cache_control.no_store = True
    if failed:
        response.headers["Retry-After"] = RETRY_AFTER
    return response, 503 if failed else 200


def _readiness() -> health.Readiness:
    """This app's probes (one pool per app, made on the first call)."""
    with _made:
        probes = current_app.extensions.get(_KEY)
        if probes is None:
            probes = current_app.extensions[_KEY] = health.Readiness()
    return probes
