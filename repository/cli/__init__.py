"""The ``kutubxona`` command: import, export, sets, records, files, harvesting, jobs, database, serving.

Exit status, for every command: 0 when everything asked was done; 1 when some items failed and
were reported; 2 when nothing could be done (wrong arguments, an unknown ID, an unreadable file).
The commands live in ``records``, ``files``, ``harvesting``, ``searching``, ``jobs`` and
``admin``; this module holds the group and what they share.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from repository.errors import KutubxonaError

if TYPE_CHECKING:
    from repository.services import Services


class Fatal(click.ClickException):
    """Nothing could be done: exit status 2 with a one-line message."""

    exit_code = 2


class Partial(click.ClickException):
    """Done, but some items failed and were reported: exit status 1."""

    exit_code = 1


_SERVICES: Services | None = None


def services() -> Services:
    """Open the services once per process, from the ``KUTUBXONA_*`` settings (no web app is built)."""
    global _SERVICES
    if _SERVICES is None:
        from repository import config
        from repository.services import open_services

        _SERVICES = open_services(config.load())
    return _SERVICES


def utc_text(value: datetime | None) -> str | None:
    """A stored UTC time as ``YYYY-MM-DDThh:mm:ssZ``, the repository's granularity (None stays None)."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def interactive() -> bool:
    """True when a person watches: progress bars only then."""
    return sys.stdout.isatty() and sys.stderr.isatty()


class _Commands(click.Group):
    """The command group: where an error a user should read becomes one line and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise Fatal(f"the database cannot be reached: {str(exc.orig).strip().splitlines()[0]}") from None
        except KutubxonaError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Kutubxona: MARC 21, UNIMARC and Dublin Core records, full text, OAI-PMH 2.0."""


# the commands register themselves on ``main`` when their modules are imported
from repository.cli import admin, files, harvesting, jobs, records, searching  # noqa: E402, F401
