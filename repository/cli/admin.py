"""Commands that run the service: database, checks, re-rendering, the sample collection, serving."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from repository import config, logs
from repository.actions import exhibitions, health
from repository.actions import records as record_actions
from repository.actions.importing import ImportOptions
from repository.cli import main, services
from repository.cli.records import import_one, print_report

# ---------------------------------------------------------------------------- database, sample, serve


@main.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    svc = services()
    svc.db.upgrade()
    click.echo("database is up to date")


@main.command("check")
@click.option("--json", "as_json", is_flag=True)
def check_cmd(as_json: bool) -> None:
    """Check configuration, database and schema, object store, search, OCR and PDF tools.

    Exit status 0 when all is well, 1 when some work will fail (a warning), 2 when the node cannot serve.
    """
    checks = health.check(services())
    code = health.exit_code(checks)
    if as_json:
        status = {0: "ok", 1: "warning", 2: "failed"}[code]
        click.echo(json.dumps({"status": status, "checks": [c.as_dict() for c in checks]}, ensure_ascii=False))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            click.echo(f"{c.status:8} {c.name:{width}}  {c.detail}  ({c.seconds * 1000:.0f} ms)")
    sys.exit(code)


@main.command("rerender")
def rerender_cmd() -> None:
    """Render every record's metadata formats again; records whose bytes change get a new datestamp.

    Run it after an upgrade that changes a crosswalk, or after changing KUTUBXONA_BASE_URL.
    """
    seen, changed = record_actions.rerender(services())
    click.echo(f"{seen} records rendered, {changed} changed")


@main.group("sample")
def sample_group() -> None:
    """The sample collection Kutubxona makes itself."""


@sample_group.command("build")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def sample_build(folder: Path) -> None:
    """Write the sample collection's files into FOLDER."""
    from repository.metadata.sample import build

    for spec in build(folder):
        click.echo(f"{spec.path}\t{spec.count} records\t{spec.description}")


@sample_group.command("load")
def sample_load() -> None:
    """Build the sample collection under VAR_DIR/sample, create its sets, import it and set up its exhibition."""
    from repository.metadata.sample import EXHIBITION, SETS, build

    svc = services()
    files = build(svc.settings.var_dir / "sample")
    for spec, (name, description) in SETS.items():
        record_actions.add_set(svc, spec, name, description)
    importer = svc.importer()
    worst = 0
    for f in files:
        report = import_one(importer, f.path, ImportOptions(sets=f.sets, actor="sample"))
        print_report(report, False)
        worst = max(worst, report.exit_code)
    spec, introduction, items = EXHIBITION
    listed = [exhibitions.Item(line, ident, caption) for line, (ident, caption) in enumerate(items, start=1)]
    shown = exhibitions.write_exhibition(svc, spec, introduction=introduction, items=listed)
    click.echo(f"exhibition {shown.spec}: {len(shown.items)} curated items")
    if worst:
        sys.exit(worst)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="requests served at once per worker")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web site and OAI-PMH with gunicorn."""
    settings = config.load()  # gunicorn's on_starting migrates, once, before the workers start
    banner = f"Kutubxona at {settings.base_url}/  OAI-PMH at {settings.base_url}/oai"
    if settings.log_format == "json":
        logs.configure("json")
        logging.getLogger("kutubxona").info(banner)
    else:
        click.echo(banner)
    command = [sys.executable, "-m", "gunicorn", "--config", "python:repository.web.serving",
               "--workers", str(workers), "--threads", str(threads), "--bind", f"{host}:{port}"]  # fmt: skip
    if settings.log_format == "json":
        command += ["--logger-class", "repository.web.serving.JsonLogger"]
    os.execvp(sys.executable, [*command, "repository.wsgi:app"])
