"""Web layer: Flask blueprints for the pages, OAI-PMH and files, and the one place where an error
a user should read becomes an HTTP answer."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template

from repository.errors import KutubxonaError
from repository.services import Services

KEY = "kutubxona"


def register(app: Flask, services: Services) -> None:
    """Attach ``services`` to ``app`` and register every blueprint and the error pages."""
    from repository.web.files import bp as files
    from repository.web.oai import bp as oai
    from repository.web.pages import bp as pages

    app.extensions[KEY] = services
    app.register_blueprint(files)
    app.register_blueprint(oai)
    app.register_blueprint(pages)
    app.context_processor(lambda: {"settings": services.settings})
    app.register_error_handler(KutubxonaError, _error_page)


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions[KEY]


def _error_page(exc: KutubxonaError) -> tuple[Any, int]:
    # the one mapping of user-facing errors to HTTP: each kind carries its status
    return render_template("error.html", code=exc.http_status, message=str(exc)), exc.http_status
