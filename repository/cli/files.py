"""Commands on files: attach, ocr, fixity, storage copy, embargo release."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from repository.actions import files as file_actions
from repository.cli import Fatal, Partial, interactive, main, services
from repository.cli.jobs import background_option, queued, schedule_options, scheduled
from repository.fulltext.extract import OCR_MODES
from repository.storage import StorageError

# ---------------------------------------------------------------------------- files


@main.command("attach")
@click.argument("ident", metavar="ID")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--access", default="open", show_default=True, help="open, restricted or embargo:YYYY-MM-DD")
@click.option("--ocr", "ocr_mode", type=click.Choice(OCR_MODES), default="auto", show_default=True)
@click.option("--lang", help="OCR languages, e.g. uzb+rus (default: the record's languages, else all four)")
def attach_cmd(ident: str, files: tuple[Path, ...], access: str, ocr_mode: str, lang: str | None) -> None:
    """Attach FILES to record ID, extract or recognise their text."""
    svc = services()
    file_actions.parse_access(access)
    failed = 0
    for path in files:
        try:
            local_id, done, row = file_actions.attach_file(svc, ident, path, access, ocr_mode, lang)
        except (file_actions.AttachError, StorageError) as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            failed += 1
            continue
        state = f"{row.extraction} ({row.method or row.message})"
        click.echo(f"{local_id}/{done.name}\t{done.mime}\t{done.size} bytes\tsha256 {done.sha256}\ttext: {state}")
    if failed:
        raise (Partial if failed < len(files) else Fatal)(f"{failed} of {len(files)} files could not be attached")


@main.command("ocr")
@click.argument("ident", metavar="ID", required=False)
@click.option("--all", "every", is_flag=True, help="every file whose text is not extracted yet")
@click.option("--redo", is_flag=True, help="extract again files already done")
@click.option("--lang", help="OCR languages, e.g. uzb+rus")
@background_option
def ocr_cmd(ident: str | None, every: bool, redo: bool, lang: str | None, background: bool) -> None:
    """Extract or recognise the text of ID's files (or of --all); rerunning resumes where it stopped."""
    svc = services()
    if bool(ident) == every:
        raise Fatal("give an ID or --all")
    if background:
        queued("ocr", {"record": ident, "redo": redo, "languages": lang}, f"text of {ident or 'every file'}")
        return
    ids = file_actions.files_to_extract(svc, ident, redo)
    out = sys.stderr if interactive() else open(os.devnull, "w")  # noqa: SIM115 - the bar's own stream
    with click.progressbar(length=len(ids), label="text", file=out) as bar:
        failed = file_actions.extract_texts(svc, ids, lang, each=lambda _row: bar.update(1))
    click.echo(f"{len(ids)} files, {failed} failed")
    if failed:
        raise Partial(f"{failed} files have no text; `kutubxona show ID --format json` says why")


@main.command("fixity")
@click.option("--json", "as_json", is_flag=True)
def fixity_cmd(as_json: bool) -> None:
    """Re-read every stored file and check its sha256; exit 1 when any is missing or corrupt."""
    results = file_actions.fixity(services())
    bad = 0
    for r in results:
        bad += r.status != "ok"
        if as_json:
            click.echo(json.dumps({"object": r.key, "status": r.status, "files": r.files}, ensure_ascii=False))
        elif r.status != "ok":
            click.echo(f"{r.status}: {r.key} ({', '.join(r.files)})")
    if not as_json:
        click.echo(f"{len(results)} objects checked, {bad} missing or corrupt")
    if bad:
        sys.exit(1)


@main.group("storage")
def storage_group() -> None:
    """Object storage."""


@storage_group.command("copy")
@click.option("--to", "target_url", required=True, help="file:///path or s3://bucket")
def storage_copy(target_url: str) -> None:
    """Copy every stored object (imports, files, covers) to another store, verifying each; rerun to resume."""
    counts = file_actions.copy_storage(services(), target_url)
    click.echo(f"{counts['objects']} objects: {counts['copied']} copied, {counts['present']} already there")


@main.group("embargo")
def embargo_group() -> None:
    """Embargoed files."""


@embargo_group.command("schedule")
@schedule_options
def embargo_schedule(daily: str | None, every: int | None, off: bool) -> None:
    """When embargoes are released (daily at 00:05 UTC from the start)."""
    scheduled("release-embargoes", "release-embargoes", {}, daily, every, off)


@embargo_group.command("release")
@background_option
def embargo_release(background: bool) -> None:
    """Open every file whose embargo has ended (run it daily); their records get a new datestamp."""
    if background:
        queued("release-embargoes", {}, "release of ended embargoes")
        return
    released = file_actions.release(services())
    for name in released:
        click.echo(f"opened {name}")
    click.echo(f"{len(released)} files released")
