"""Commands that search the catalogue and rebuild its index."""

from __future__ import annotations

import json
import sys

import click

from repository.actions import searching
from repository.cli import interactive, main, services
from repository.cli.jobs import background_option, queued
from repository.search.query import SORTS


@main.command("search", context_settings={"ignore_unknown_options": True})  # "-word" excludes a word
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "size", default=20, show_default=True, type=click.IntRange(1, searching.MAX_SIZE),
              help="hits per page")  # fmt: skip
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object: total, hits, facets, suggestion")
def search_cmd(query: tuple[str, ...], size: int, page: int, sort: str, as_json: bool) -> None:
    """Search every element of the description and the full text, in either Uzbek script.

    Words match as prefixes and all are required.  title:, author:, subject:, series:,
    publisher:, journal:, notes:, isbn:, issn:, udc:, bbk:, callno: and text: search one field;
    year:1990-2000, lang:uzb, type:book and set:SPEC narrow; "quoted words" are a phrase; OR
    and NOT (or -word) combine.
    """
    result = searching.search(services(), " ".join(query), page, size, sort)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for hit in result["hits"]:
        host = f"\tin {hit['host']['title']} {hit['host']['part']}".rstrip() if "host" in hit else ""
        click.echo(f"{hit['id']}\t{hit['year'] or ''}\t{hit['title']}\t{'; '.join(hit['authors'][:2])}{host}")
    shown = len(result["hits"])
    first = (page - 1) * size + 1
    if shown:
        click.echo(f"{first}-{first + shown - 1} of {result['total']}", err=True)
    else:
        click.echo(f"no records found ({result['total']} in all)", err=True)
    if result["suggestion"]:
        click.echo(f"did you mean: {result['suggestion']}", err=True)


@main.command("reindex")
@click.option("--restart", is_flag=True, help="start again from the first record instead of resuming")
@click.option("--json", "as_json", is_flag=True)
@background_option
def reindex_cmd(restart: bool, as_json: bool, background: bool) -> None:
    """Rebuild the search index from the catalogue; an interrupted run is resumed by the next one."""
    if background:
        queued("reindex", {"restart": restart}, "reindex")
        return
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
        click.echo(f"{result['indexed']} records in the {result['backend']} search index{resumed}")
