"""Web layer: Flask blueprints for the pages, OAI-PMH and files, and the one place where an error
a user should read becomes an HTTP answer."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request

from repository.errors import KutubxonaError
from repository.services import Services

KEY = "kutubxona"
_gates_made = threading.Lock()
MAX_BODY = 1 << 20  # no page takes an upload yet: a request body over 1 MiB is refused with 413
# HTML pages load nothing from elsewhere; the inline <style> of base.html is the one exception
CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


def register(app: Flask, services: Services) -> None:
    """Attach ``services`` to ``app`` and register every blueprint and the error pages."""
    from repository.web import i18n, links, metrics
    from repository.web.api import bp as api
    from repository.web.exports import bp as exports
    from repository.web.files import bp as files
    from repository.web.health import bp as health
    from repository.web.metrics import bp as metrics_bp
    from repository.web.oai import bp as oai
    from repository.web.pages import bp as pages

    app.extensions[KEY] = services
    i18n.init(app, services.settings.var_dir)
    app.register_blueprint(api)
    app.register_blueprint(exports)
    app.register_blueprint(files)
    app.register_blueprint(health)
    app.register_blueprint(metrics_bp)
    metrics.init(app)
    app.register_blueprint(oai)
    app.register_blueprint(pages)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.context_processor(lambda: {"settings": services.settings})
    app.register_error_handler(KutubxonaError, _error_page)
    app.after_request(_safety_headers)
    app.after_request(links.local_redirects)


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions[KEY]


def worker_gate(name: str, size: int) -> threading.BoundedSemaphore:
    """This worker's gate ``name`` of ``size`` places (made once per app): what may run at once before a 503."""
    with _gates_made:
        gate = current_app.extensions.get(f"kutubxona.gate.{name}")
        if gate is None:
            gate = current_app.extensions[f"kutubxona.gate.{name}"] = threading.BoundedSemaphore(size)
    return gate


def _error_page(exc: KutubxonaError) -> tuple[Any, int]:
    # the one mapping of user-facing errors to HTTP: each kind carries its status; a page says a
    # query's fault in the interface language, the API in English
    from repository.web.labels import query_error

    return error_answer(exc.http_status, str(exc) if request.path.startswith("/api/") else query_error(exc))


def error_answer(code: int, message: str) -> tuple[Any, int]:
    """An error as the client reads it: JSON under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        return jsonify(error=message), code
    return render_template("error.html", code=code, message=message), code


def _safety_headers(response: Response) -> Response:
    # a browser must never guess a type (an uploaded file read as HTML would run as our page)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith("/api/"):  # read-only and public: any site may read it from a browser
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
