"""Web layer: Flask blueprints for the pages (and, in their issues, OAI-PMH, files and the JSON API)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register every blueprint and the error pages."""
    from repository.web.files import bp as files
    from repository.web.oai import bp as oai
    from repository.web.pages import bp as pages

    app.register_blueprint(files)
    app.register_blueprint(oai)
    app.register_blueprint(pages)
