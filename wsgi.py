"""``gunicorn wsgi:app`` from the project folder."""

from repository.wsgi import app

__all__ = ["app"]
