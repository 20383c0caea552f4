"""Logging: plain lines for a person at a terminal, or one JSON object per line for a log collector.

``KUTUBXONA_LOG_FORMAT=json`` makes every log line of the service (the app's, gunicorn's and its
access log) a JSON object with ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``,
plus the fields a line carries (an access line: method, path, status, duration).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# the attributes every LogRecord has; anything else on a record was passed in ``extra`` and is a field
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON: time, level, logger, message, its extra fields and any exception."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(log_format: str) -> None:
    """Send the service's logs to standard error, as JSON lines when ``log_format`` is ``json``."""
    root = logging.getLogger()
    if any(getattr(h, "kutubxona", False) for h in root.handlers):
        return  # configured already (several apps in one process)
    handler = logging.StreamHandler(sys.stderr)
    handler.kutubxona = True
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))  # fmt: skip
    root.addHandler(handler)
    if root.level == logging.WARNING:  # the default: let the service's own notes through
        root.setLevel(logging.INFO)
