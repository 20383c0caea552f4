"""Commands on files: attach, ocr, fixity, storage copy, embargo release."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from sqlalchemy import select

from repository.catalogue.models import ImportBatch
from repository.cli import Fatal, Partial, find_record, interactive, main, services
from repository.fulltext.extract import OCR_MODES

# ---------------------------------------------------------------------------- files


@main.command("attach")
@click.argument("ident", metavar="ID")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--access", default="open", show_default=True, help="open, restricted or embargo:YYYY-MM-DD")
@click.option("--ocr", "ocr_mode", type=click.Choice(OCR_MODES), default="auto", show_default=True)
@click.option("--lang", help="OCR languages, e.g. uzb+rus (default: the record's languages, else all four)")
def attach_cmd(ident: str, files: tuple[Path, ...], access: str, ocr_mode: str, lang: str | None) -> None:
    """Attach FILES to record ID, extract or recognise their text."""
    from repository.actions.files import AttachError, attach, parse_access, run_extraction
    from repository.catalogue.models import RecordFile
    from repository.storage import StorageError

    svc = services()
    try:
        parse_access(access)
    except AttachError as exc:
        raise Fatal(str(exc)) from None
    failed = 0
    for path in files:
        try:
            with svc.db.transaction() as session:
                rec = find_record(session, ident)
                done = attach(session, svc.store, svc.base_url, rec, path, access)
        except (AttachError, StorageError) as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            failed += 1
            continue
        with svc.db.transaction() as session:
            row = session.get(RecordFile, done.file_id)
            if row.extraction == "pending":
                run_extraction(session, svc.store, row, ocr_mode, lang)
            state = f"{row.extraction} ({row.method or row.message})"
        click.echo(f"{rec.local_id}/{done.name}\t{done.mime}\t{done.size} bytes\tsha256 {done.sha256}\ttext: {state}")
    if failed:
        raise (Partial if failed < len(files) else Fatal)(f"{failed} of {len(files)} files could not be attached")


@main.command("ocr")
@click.argument("ident", metavar="ID", required=False)
@click.option("--all", "every", is_flag=True, help="every file whose text is not extracted yet")
@click.option("--redo", is_flag=True, help="extract again files already done")
@click.option("--lang", help="OCR languages, e.g. uzb+rus")
def ocr_cmd(ident: str | None, every: bool, redo: bool, lang: str | None) -> None:
    """Extract or recognise the text of ID's files (or of --all); rerunning resumes where it stopped."""
    from repository.actions.files import run_extraction
    from repository.catalogue.models import RecordFile

    svc = services()
    if bool(ident) == every:
        raise Fatal("give an ID or --all")
    with svc.db.reading() as session:
        stmt = select(RecordFile.id).order_by(RecordFile.id)
        if ident:
            stmt = stmt.where(RecordFile.record_id == find_record(session, ident).id)
        if not redo:
            stmt = stmt.where(RecordFile.extraction.in_(("pending", "failed")))
        ids = list(session.scalars(stmt))
    failed = 0
    with click.progressbar(ids, label="text", file=sys.stderr if interactive() else open(os.devnull, "w")) as bar:
        for file_id in bar:
            with svc.db.transaction() as session:  # one commit per file: an interrupted run resumes
                row = session.get(RecordFile, file_id)
                run_extraction(session, svc.store, row, "auto", lang)
                failed += row.extraction == "failed"
    click.echo(f"{len(ids)} files, {failed} failed")
    if failed:
        raise Partial(f"{failed} files have no text; `kutubxona show ID --format json` says why")


@main.command("fixity")
@click.option("--json", "as_json", is_flag=True)
def fixity_cmd(as_json: bool) -> None:
    """Re-read every stored file and check its sha256; exit 1 when any is missing or corrupt."""
    from repository.actions.files import check_fixity

    svc = services()
    bad = 0
    with svc.db.reading() as session:
        results = list(check_fixity(session, svc.store))
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
    """Copy every stored object (imports and files) to another store, verifying each; rerun to resume."""
    from repository.actions.files import copy_objects
    from repository.catalogue.models import RecordFile
    from repository.storage import StorageError, open_store

    svc = services()
    try:
        target = open_store(target_url, endpoint=svc.conf["S3_ENDPOINT"])
    except StorageError as exc:
        raise Fatal(str(exc)) from None
    with svc.db.reading() as session:
        keys = sorted(set(session.scalars(select(RecordFile.object_key))) | {
            k for k in session.scalars(select(ImportBatch.object_key)) if k})  # fmt: skip
    counts = {"copied": 0, "present": 0}
    try:
        for _key, outcome in copy_objects(svc.store, target, keys):
            counts[outcome] += 1
    except StorageError as exc:
        raise Fatal(f"{exc} (copied {counts['copied']} so far; run again to go on)") from None
    click.echo(f"{len(keys)} objects: {counts['copied']} copied, {counts['present']} already there")


@main.group("embargo")
def embargo_group() -> None:
    """Embargoed files."""


@embargo_group.command("release")
def embargo_release() -> None:
    """Open every file whose embargo has ended (run it daily); their records get a new datestamp."""
    from repository.actions.files import release_embargoes

    svc = services()
    with svc.db.transaction() as session:
        released = release_embargoes(session, svc.base_url)
    for name in released:
        click.echo(f"opened {name}")
    click.echo(f"{len(released)} files released")
