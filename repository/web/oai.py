"""The OAI-PMH endpoint: ``{BASE_URL}/oai``, GET and POST, gzip and deflate, 503 when overloaded."""

from __future__ import annotations

import gzip
import logging
import threading
import zlib
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from repository.catalogue.oai_store import SqlStore
from repository.config import Settings
from repository.metadata.formats import FORMATS
from repository.oai import LIST_VERBS, OAISettings, respond
from repository.web import metrics, services, worker_gate

bp = Blueprint("oai", __name__)
log = logging.getLogger(__name__)
MAX_POST = 64 * 1024  # the longest legal request is a few hundred bytes: a token, a set, two dates
RETRY_AFTER = "5"  # seconds; CHECKLIST 8: an integer, well under an hour


def settings() -> OAISettings:
    """The OAI settings of the current app (built once per app)."""
    cached = current_app.extensions.get("kutubxona.oai")
    if cached is None:
        cached = oai_settings(services().settings)
        current_app.extensions["kutubxona.oai"] = cached
    return cached


def oai_settings(s: Settings) -> OAISettings:
    """What the OAI core needs of the node's settings (the app's, or the HTTP server's for its refusals)."""
    return OAISettings(
        base_url=s.base_url + "/oai",
        repository_name=s.repository_name,
        repository_id=s.repository_id,
        admin_emails=(s.admin_email,),
        secret_key=s.secret_key,
        page_size=s.oai_page_size,
        token_ttl_hours=s.oai_token_ttl_hours,
        friends=s.oai_friends,
        formats=tuple(FORMATS.values()),
    )


def _gate() -> threading.BoundedSemaphore:
    return worker_gate("oai", services().settings.oai_max_concurrent)


def _arguments() -> list[tuple[str, str]]:
    """The request's (name, value) pairs, repeats kept: from the body for POST, the query for GET."""
    if request.method == "POST":
        # a larger body raises 413 (RequestEntityTooLarge); werkzeug cuts a chunked body (no
        # Content-Length) at the limit without a word, so one byte past it is read to know
        request.max_content_length = MAX_POST + 1
        raw = request.get_data(cache=False)
        if len(raw) > MAX_POST:
            raise RequestEntityTooLarge()
    else:
        raw = request.query_string
    # OAI-PMH 3.1.1: values are percent-decoded once ("+" and "%20" are both a space)
    return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, encoding="utf-8", errors="replace")


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer one OAI-PMH request."""
    try:
        pairs = _arguments()
    except RequestEntityTooLarge:
        return Response(f"413 Request Entity Too Large: an OAI-PMH request is at most {MAX_POST} bytes\n", 413,
                        mimetype="text/plain")  # fmt: skip
    is_list = any(name == "verb" and value in LIST_VERBS for name, value in pairs)
    gate = _gate() if is_list else None
    if gate is not None and not gate.acquire(blocking=False):
        return _unavailable("too many harvests at once")
    try:
        svc = services()
        with svc.db.reading() as session:
            now = svc.stamps.barrier(session)  # every change stamped before now is visible from here on
            body = respond(pairs, SqlStore(session), settings(), now)
    except OperationalError:
        log.exception("database unavailable while answering OAI-PMH")
        return _unavailable("the catalogue database is unavailable")
    finally:
        if gate is not None:
            gate.release()
    metrics.count_oai(next((value for name, value in pairs if name == "verb"), ""), body)
    return _xml(body)


def _unavailable(reason: str) -> Response:
    # OAI-PMH 3.1.2.2: overload is HTTP 503 with Retry-After
    response = Response(f"503 Service Unavailable: {reason}; retry later\n", 503, mimetype="text/plain")
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def _xml(body: bytes) -> Response:
    """text/xml; compressed only when the client asked for it (OAI-PMH 3.1.3)."""
    response = Response(body, 200, content_type="text/xml; charset=utf-8")
    response.vary.add("Accept-Encoding")
    accepted = request.accept_encodings
    if accepted["gzip"] > 0:
        response.set_data(gzip.compress(body, 6))
        response.headers["Content-Encoding"] = "gzip"
    elif accepted["deflate"] > 0:
        response.set_data(zlib.compress(body, 6))
        response.headers["Content-Encoding"] = "deflate"
    return response
