"""The base of every error a user is meant to read: one line, no traceback.

Each kind says how the command line exits and what HTTP status a web answer gets, so both are
mapped once (``repository.cli`` and ``repository.web``) instead of at every call site.  Per-record
problems (a broken MARC record, a field too long for ISO 2709) are not errors of this kind: they
are reported with the record and the work goes on.
"""

from __future__ import annotations

from typing import ClassVar


class KutubxonaError(Exception):
    """Something a user asked for cannot be done; the message says why, in one line."""

    exit_code: ClassVar[int] = 2  # CLI: nothing could be done
    http_status: ClassVar[int] = 400


class NotFound(KutubxonaError):
    """A record, batch, set or source that does not exist."""

    http_status = 404


class Unavailable(KutubxonaError):
    """A service the work needs (database, object store, worker processes) cannot be reached."""

    http_status = 503


class Handback(Exception):  # noqa: N818 - a signal, not an error
    """Long work stopped at a step boundary, everything so far committed, to go on later where it stands.

    Raised by a background job's progress callback when its runner keeps tasks small (Celery):
    an import leaves its batch running, a harvest its run, a reindex its generation.
    """
