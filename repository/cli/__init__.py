"""The ``kutubxona`` command: import, export, sets, records, files, harvesting, database, serving.

Exit status, for every command: 0 when everything asked was done; 1 when some items failed and
were reported; 2 when nothing could be done (wrong arguments, an unknown ID, an unreadable file).
The commands live in ``records``, ``files``, ``harvesting`` and ``admin``; this module holds the
group and what they share.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from repository import catalogue
from repository.catalogue.models import Record


class Fatal(click.ClickException):
    """Nothing could be done: exit status 2 with a one-line message."""

    exit_code = 2


class Partial(click.ClickException):
    """Done, but some items failed and were reported: exit status 1."""

    exit_code = 1


_APP: Any = None


def services():  # noqa: ANN201 - repository.services.Services
    """Create the app once per process and return its services (inside an app context)."""
    global _APP
    if _APP is None:
        from repository import create_app
        from repository.config import ConfigError
        from repository.storage import StorageError

        try:
            _APP = create_app()
        except (ConfigError, StorageError) as exc:
            raise Fatal(str(exc)) from None
        _APP.app_context().push()
    from repository.services import services as current

    return current()


def find_record(session: Any, ident: str) -> Record:
    """The record named by a local or OAI identifier; exit 2 when there is none."""
    svc = services()
    rec = catalogue.resolve(session, svc.repository_id, ident)
    if rec is None:
        raise Fatal(f"no record {ident!r}")
    return rec


def utc_text(value: datetime | None) -> str | None:
    """A stored UTC time as ``YYYY-MM-DDThh:mm:ssZ``, the repository's granularity (None stays None)."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def interactive() -> bool:
    """True when a person watches: progress bars only then."""
    return sys.stdout.isatty() and sys.stderr.isatty()


class _Commands(click.Group):
    """The command group; an unreachable database or store, or a lost worker, is one line and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        from repository.metadata.preparing import WorkerLost
        from repository.storage import StorageError

        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise Fatal(f"the database cannot be reached: {str(exc.orig).strip().splitlines()[0]}") from None
        except (StorageError, WorkerLost) as exc:
            raise Fatal(str(exc)) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Kutubxona: MARC 21, UNIMARC and Dublin Core records, full text, OAI-PMH 2.0."""


# the commands register themselves on ``main`` when their modules are imported
from repository.cli import admin, files, harvesting, records  # noqa: E402, F401
