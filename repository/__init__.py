"""Kutubxona: a digital repository for library networks.

.. code-block:: python

    from repository import create_app
    app = create_app({"DATABASE_URL": "sqlite:///demo.sqlite3"})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported when an app is built: import workers never load it
    from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings from ``KUTUBXONA_*`` (then ``overrides``), its services, the web."""
    from flask import Flask

    from repository import config
    from repository.services import open_services
    from repository.web import register

    app = Flask(__name__)
    settings = config.load(overrides)
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["JSON_AS_ASCII"] = False
    register(app, open_services(settings))
    return app
