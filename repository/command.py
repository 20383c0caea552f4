"""The ``kutubxona`` console script's entry point, apart from the command line it runs.

A worker process that prepares records is started by spawning, and spawning runs the parent's
main script again in the child: a script that imported ``repository.cli`` (SQLAlchemy, every
command) at its top would cost each worker a third of a second before its first record.
"""

from __future__ import annotations


def main() -> None:
    """Run the ``kutubxona`` command line."""
    from repository.cli import main as command_line

    command_line()
