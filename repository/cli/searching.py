"""Commands that search the catalogue and rebuild its index."""

from __future__ import annotations

import json
import sys

import click

from repository.actions import searching
from repository.cli import interactive, main, services


@main.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per hit on stdout")
def search_cmd(query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Search every element of the description and the full text, in either Uzbek script.

    Terms match as prefixes and all are required; title:, author:, subject:, publisher:, other: and
    text: search one field; "quoted words" are a phrase; OR and NOT combine.
    """
    hits = searching.search(services(), " ".join(query), limit)
    for hit, rec in hits:
        if as_json:
            click.echo(json.dumps({"local_id": rec.local_id, "title": rec.title, "author": rec.author,
                                   "year": rec.year, "score": round(hit.score, 3)}, ensure_ascii=False))  # fmt: skip
        else:
            click.echo(f"{rec.local_id}\t{rec.year}\t{rec.title}\t{rec.author}")
    if not hits and not as_json:
        click.echo("no records found", err=True)


@main.command("reindex")
@click.option("--restart", is_flag=True, help="start again from the first record instead of resuming")
@click.option("--json", "as_json", is_flag=True)
def reindex_cmd(restart: bool, as_json: bool) -> None:
    """Rebuild the search index from the catalogue; an interrupted run is resumed by the next one."""
    svc = services()
    if interactive():
        with click.progressbar(length=1, label="reindex", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            result = searching.reindex(svc, restart, progress)
    else:
        result = searching.reindex(svc, restart)
    if as_json:
        click.echo(json.dumps(result))
    else:
        resumed = " (resumed)" if result["resumed"] else ""
        click.echo(f"{result['indexed']} records in the search index{resumed}")
