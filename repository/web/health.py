"""Probes for a load balancer or an orchestrator: ``/healthz`` (the process answers) and ``/readyz``
(the database, the object store and the search index answer, each within two seconds)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from repository.actions import health
from repository.web import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the process can answer at all: restart it when this fails."""
    response = jsonify(status="ok")
    response.cache_control.no_store = True
    return response


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when this node can serve requests, 503 (with what failed) when traffic should go elsewhere."""
    checks = health.readiness(services())
    ready = all(c.status != health.FAILED for c in checks)
    response = jsonify(status="ready" if ready else "unavailable", checks=[c.as_dict() for c in checks])
    response.cache_control.no_store = True
    if not ready:
        response.headers["Retry-After"] = "10"
    return response, 200 if ready else 503
