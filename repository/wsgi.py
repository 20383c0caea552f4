"""The WSGI application for gunicorn: ``gunicorn repository.wsgi:app``."""

from repository import create_app

app = create_app()
