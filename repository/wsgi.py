"""The WSGI application for gunicorn: ``gunicorn repository.wsgi:app``."""

from repository import create_app, logs

app = create_app()
logs.configure(app.extensions["kutubxona"].settings.log_format)
