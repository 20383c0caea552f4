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


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration from ``KUTUBXONA_*`` (then ``config``), database, storage, web."""
    from flask import Flask

    from repository import config as settings
    from repository.services import init_app
    from repository.web import register

    app = Flask(__name__)
    conf = settings.load(config)
    app.config.update({f"KUTUBXONA_{k}": v for k, v in conf.items()})
    app.config["SECRET_KEY"] = conf["SECRET_KEY"]
    app.config["JSON_AS_ASCII"] = False
    init_app(app, conf)
    register(app)
    return app
