"""Commands that harvest other OAI-PMH repositories into this one."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from harvest.runner import MAX_DELETE
from repository.actions import harvesting
from repository.catalogue import queries
from repository.cli import Fatal, interactive, main, services, utc_text
from repository.cli.jobs import background_option, queued, schedule_options, scheduled

# ---------------------------------------------------------------------------- harvesting


@main.group("harvest")
def harvest_group() -> None:
    """Harvest other OAI-PMH repositories into this one."""


@harvest_group.command("add")
@click.argument("name")
@click.argument("base_url")
@click.option("--prefix", default="oai_dc", show_default=True, help="metadataPrefix to harvest (oai_dc, marc21, ...)")
@click.option("--set", "sets", multiple=True, metavar="SPEC", help="harvest only this set (repeatable)")
def harvest_add(name: str, base_url: str, prefix: str, sets: tuple[str, ...]) -> None:
    """Register source NAME at BASE_URL; its records will be NAME:<identifier> in set source:NAME."""
    harvesting.add_source(services(), name, base_url, prefix, list(sets))
    click.echo(f"source {name}: {base_url} ({prefix})")


@harvest_group.command("run")
@click.argument("name", required=False)
@click.option("--full", is_flag=True, help="harvest everything again and tombstone what the source no longer has")
@click.option("--json", "as_json", is_flag=True, help="one JSON summary per source on stdout")
@click.option(
    "--max-delete",
    type=click.FloatRange(0, 100),
    default=MAX_DELETE,
    show_default=True,
    metavar="PERCENT",
    help="with --full: tombstone at most this share of the source's live records",
)
@click.option("--allow-mass-delete", is_flag=True, help="with --full: tombstone past --max-delete")  # fmt: skip
@background_option
def harvest_run(
    name: str | None, full: bool, as_json: bool, max_delete: float, allow_mass_delete: bool, background: bool
) -> None:
    """Harvest NAME (or every source): incrementally, finishing any interrupted run first.

    Exit status 1 when records were set aside or a reconciliation was refused, 2 when a source failed.
    """
    svc = services()
    names = harvesting.source_names(svc, name)
    if not names:
        raise Fatal("no harvest sources (add one with `kutubxona harvest add`)")
    if background:
        for source in names:  # a job each: one slow repository does not hold up the others
            queued("harvest", {"source": source, "full": full, "max_delete": max_delete,
                               "allow_mass_delete": allow_mass_delete}, f"harvest of {source}")  # fmt: skip
        return
    worst = 0
    for source in names:
        report = _harvest_one(svc, source, full, max_delete, allow_mass_delete)
        if as_json:
            click.echo(json.dumps(report.as_json(), ensure_ascii=False))
        elif report.error:
            click.echo(f"{source}: {report.error}", err=True)
        else:
            resumed = " (resumed)" if report.resumed else ""
            click.echo(
                f"{source}{resumed}: {report.records} records in {report.pages} pages, {report.created} created, "
                f"{report.updated} updated, {report.unchanged} unchanged, {report.deleted} deleted, "
                f"{report.set_aside} set aside, {report.seconds:.1f} s"
            )
            for problem in report.problems or []:
                click.echo(f"  set aside: {problem['identifier'] or '(unreadable)'}: {problem['reason']}")
        if report.refused and not as_json:
            click.echo(f"{source}: refused: {report.refused}", err=True)
        worst = max(worst, 2 if report.error else (1 if report.set_aside or report.refused else 0))
    if worst:
        sys.exit(worst)


def _harvest_one(svc: Any, name: str, full: bool, max_delete: float, allow_mass_delete: bool) -> Any:
    options = {"max_delete": max_delete, "allow_mass_delete": allow_mass_delete}
    if not interactive():
        return harvesting.run(svc, name, full, **options)
    started = time.monotonic()
    with click.progressbar(length=1, label=name, file=sys.stderr, show_percent=False, show_pos=False,
                           item_show_func=lambda text: text) as bar:  # fmt: skip

        def progress(report: Any, page: Any) -> None:
            rate = report.records / max(time.monotonic() - started, 1e-6)
            size = f" of {page.complete_size}" if page is not None and page.complete_size else ""
            bar.update(0, f"{report.records}{size} records, {report.pages} pages, {rate:,.0f}/s")
            bar.render_progress()

        return harvesting.run(svc, name, full, progress, **options)


@harvest_group.command("schedule")
@click.argument("name")
@schedule_options
@click.option("--full", is_flag=True, help="a full harvest each time (reconciling deletions), not an incremental one")
def harvest_schedule(name: str, daily: str | None, every: int | None, off: bool, full: bool) -> None:
    """Harvest source NAME on a schedule: daily at a time (UTC) or every so many minutes."""
    harvesting.source_names(services(), name)  # an unknown source is an error
    scheduled(harvesting.schedule_name(name), "harvest", {"source": name, "full": full}, daily, every, off)


@harvest_group.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
def harvest_status(name: str | None, as_json: bool) -> None:
    """Each source (or NAME): where its harvest stands; for NAME, the records that could not be read."""
    with services().db.reading() as session:
        sources = [harvesting.get_source(session, name)] if name else queries.harvest_sources(session)
        problems = queries.harvest_problems(session, sources[0].id) if name else []
    rows = [
        {"name": s.name, "base_url": s.base_url, "prefix": s.prefix, "sets": json.loads(s.sets), "status": s.status,
         "granularity": s.granularity, "last_response_date": s.last_response_date,
         "last_finished": utc_text(s.last_finished),
         "run_started": utc_text(s.run_started),
         "run": {"records": s.run_records, "deleted": s.run_deleted, "set_aside": s.run_set_aside,
                 "pages": s.run_pages, "token": bool(s.run_token)},
         "message": s.message}
        for s in sources
    ]  # fmt: skip
    if name:
        rows[0]["problems"] = [
            {"identifier": p.identifier, "reason": p.reason, "raw": (p.raw or b"").decode("utf-8", "replace"),
             "first_seen": utc_text(p.first_seen), "last_seen": utc_text(p.last_seen), "attempts": p.attempts}
            for p in problems
        ]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        last = r["last_response_date"] or "never"
        click.echo(f"{r['name']}\t{r['status']}\tlast {last}\t{r['base_url']} ({r['prefix']})\t{r['message']}")
        for p in r.get("problems", []):
            click.echo(f"  unreadable: {p['identifier'] or '(no identifier)'}: {p['reason']} ({p['attempts']}x)")


@harvest_group.command("remove")
@click.argument("name")
def harvest_remove(name: str) -> None:
    """Forget source NAME (the records harvested from it stay, in set source:NAME)."""
    harvesting.remove_source(services(), name)
    click.echo(f"removed source {name}; its records stay in set source:{name}")
