"""The ``kutubxona`` command: import, export, sets, records, history, batches, database, serving.

Exit status, for every command: 0 when everything asked was done; 1 when some items failed and
were reported; 2 when nothing could be done (wrong arguments, an unknown ID, an unreadable file).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from repository.fulltext.extract import OCR_MODES
from repository.records import catalogue, marcxml
from repository.records import dc as dcmod
from repository.records.export import EXPORT_FORMATS, export
from repository.records.formats import file_url, prepare_source
from repository.records.identifiers import oai_identifier, record_path
from repository.records.importer import ImportOptions, ImportRefused, Report
from repository.records.marc import TooLongForISO2709, to_iso2709, to_text
from repository.records.models import BatchItem, HarvestSource, ImportBatch, OAISet, Record, RecordFormat
from repository.records.reading import FLAVOURS, SYNTAXES


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


def _record(session: Any, ident: str) -> Record:
    svc = services()
    rec = catalogue.resolve(session, svc.repository_id, ident)
    if rec is None:
        raise Fatal(f"no record {ident!r}")
    return rec


def _interactive() -> bool:
    return sys.stdout.isatty() and sys.stderr.isatty()


class _Commands(click.Group):
    """The command group; a database or storage that cannot be reached is one line and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        from repository.storage import StorageError

        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise Fatal(f"the database cannot be reached: {str(exc.orig).strip().splitlines()[0]}") from None
        except StorageError as exc:
            raise Fatal(str(exc)) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Kutubxona: MARC 21, UNIMARC and Dublin Core records, full text, OAI-PMH 2.0."""


# ------------------------------------------------------------------------------------------ import


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--syntax", type=click.Choice(SYNTAXES), default="auto", show_default=True)
@click.option("--flavour", type=click.Choice(FLAVOURS), default="auto", show_default=True)
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "marc-8", "cp1251", "koi8-r", "cp866"]),
    default="auto",
    show_default=True,
)
@click.option("--set", "sets", multiple=True, metavar="SPEC", help="add every record to this set (repeatable)")
@click.option(
    "--on-match",
    type=click.Choice(["update", "skip", "new"]),
    default="update",
    show_default=True,
    help="what to do with a record we already hold",
)
@click.option("--dry-run", is_flag=True, help="report what would happen; store nothing")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per file on stdout")
def import_cmd(
    files: tuple[Path, ...],
    syntax: str,
    flavour: str,
    encoding: str,
    sets: tuple[str, ...],
    on_match: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import ISO 2709, MARCXML or Dublin Core FILES; every record is created, updated, unchanged,
    skipped or rejected with its reason."""
    svc = services()
    options = ImportOptions(syntax, flavour, encoding, sets, on_match, dry_run)
    importer = svc.importer()
    worst = 0
    for path in files:
        try:
            report = _import_one(importer, path, options)
        except (ImportRefused, catalogue.SetError) as exc:
            raise Fatal(str(exc)) from None
        if as_json:
            click.echo(json.dumps(report.as_json(), ensure_ascii=False))
        else:
            _print_report(report, dry_run)
        worst = max(worst, report.exit_code)
    if worst:
        sys.exit(worst)


def _import_one(importer: Any, path: Path, options: ImportOptions) -> Report:
    if not _interactive():
        return importer.import_file(path, options)
    size = path.stat().st_size if path.exists() else 0
    started = time.monotonic()
    state = {"records": 0}

    def show(_: Any) -> str:
        rate = state["records"] / max(time.monotonic() - started, 1e-6)
        return f"{state['records']} records, {rate:,.0f}/s"

    with click.progressbar(length=max(size, 1), label=path.name, file=sys.stderr, item_show_func=show) as bar:
        last = [0]

        def progress(done: int, records: int) -> None:
            state["records"] = records
            bar.update(max(done - last[0], 0), records)
            last[0] = done

        return importer.import_file(path, options, progress)


def _print_report(report: Report, dry_run: bool) -> None:
    if report.error:
        click.echo(f"error: {report.error}", err=True)
        return
    c = report.counts
    head = "dry run, nothing stored: " if dry_run else f"batch {report.batch}: "
    click.echo(
        f"{head}{report.file}: {c['records']} records: {c['created']} created, {c['updated']} updated, "
        f"{c['unchanged']} unchanged, {c['skipped']} skipped, {c['rejected']} rejected, "
        f"{c['warnings']} warnings"
    )
    for p in report.problems:
        if p["outcome"] == "warning":
            continue
        where = f"offset {p['offset']}" if p["offset"] is not None else f"line {p['line']}"
        click.echo(f"  record {p['position']} ({where}): {p['outcome']}: {p['reason']}")


# ------------------------------------------------------------------------------------------ export


def _parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise Fatal(f"--since must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not {value!r}")


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("--since", help="only records changed on or after this date (YYYY-MM-DD or ...Thh:mm:ssZ)")
@click.option("--set", "spec", metavar="SPEC", help="only records in this set or below it")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_cmd(fmt: str, since: str | None, spec: str | None, out: Path) -> None:
    """Export live records as ISO 2709 (UTF-8), MARCXML or oai_dc."""
    svc = services()
    since_dt = _parse_date(since)
    with svc.db.sessions() as session:
        if spec:
            try:
                catalogue.set_ids(session, [spec])
            except catalogue.SetError as exc:
                raise Fatal(str(exc)) from None
        tmp = out.with_name(out.name + ".part")
        with open(tmp, "wb") as fh:
            report = export(session, fmt, fh, since_dt, spec)
        os.replace(tmp, out)
    click.echo(f"{report.written} records written to {out}")
    for p in report.problems:
        click.echo(f"  not exported: {p['record']}: {p['reason']}", err=True)
    if report.problems:
        raise Partial(f"{len(report.problems)} records could not be exported")


# ------------------------------------------------------------------------------------------ sets


@main.group("sets")
def sets_group() -> None:
    """OAI-PMH sets (hierarchical: a:b:c)."""


@sets_group.command("add")
@click.argument("spec")
@click.argument("name")
@click.option("--description", help="free text shown with the set")
def sets_add(spec: str, name: str, description: str | None) -> None:
    """Create (or rename) set SPEC, creating its missing ancestors."""
    svc = services()
    try:
        with svc.db.session() as session:
            catalogue.add_set(session, spec, name, description)
    except catalogue.SetError as exc:
        raise Fatal(str(exc)) from None
    click.echo(f"set {spec}: {name}")


@sets_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def sets_list(as_json: bool) -> None:
    """List the sets with the number of records directly in each."""
    svc = services()
    with svc.db.sessions() as session:
        sets = session.scalars(select(OAISet).order_by(OAISet.spec)).all()
        counts = catalogue.set_counts(session)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "spec": s.spec,
                        "name": s.name,
                        "description": s.description,
                        "records": counts.get(s.id, 0),
                    }
                    for s in sets
                ],
                ensure_ascii=False,
            )
        )
        return
    for s in sets:
        click.echo(f"{s.spec}\t{counts.get(s.id, 0)}\t{s.name}")


# ------------------------------------------------------------------------------------------ records


@main.command("delete")
@click.argument("ident", metavar="ID")
def delete_cmd(ident: str) -> None:
    """Delete record ID, leaving a tombstone (its sets are kept; OAI-PMH deletedRecord=persistent)."""
    svc = services()
    with svc.db.session() as session:
        rec = _record(session, ident)
        changed = catalogue.delete_record(session, rec, actor="cli")
    click.echo(f"deleted {rec.local_id}" if changed else f"{rec.local_id} was already deleted")


@main.command("show")
@click.argument("ident", metavar="ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "iso2709", "marcxml", "dc", "json"]),
    default="text",
    show_default=True,
)
def show_cmd(ident: str, fmt: str) -> None:
    """Print record ID (local or OAI identifier)."""
    svc = services()
    with svc.db.sessions() as session:
        rec = _record(session, ident)
        specs = catalogue.set_specs(session, rec.id)
        formats = {
            prefix: xml
            for prefix, xml in session.execute(
                select(RecordFormat.prefix, RecordFormat.xml).where(RecordFormat.record_id == rec.id)
            )
        }
        versions = catalogue.versions(session, rec)
    prepared = prepare_source(rec.flavour, rec.source)
    if fmt == "text":
        if prepared.marc is not None:
            click.echo(to_text(prepared.marc))
        else:
            for name in dcmod.ELEMENTS:
                for value in prepared.dc.get(name):
                    click.echo(f"dc:{name}: {value}")
    elif fmt == "iso2709":
        if prepared.marc is None:
            raise Fatal(f"{rec.local_id} is a Dublin Core record; it has no ISO 2709 form")
        try:
            sys.stdout.buffer.write(to_iso2709(prepared.marc))
        except TooLongForISO2709 as exc:
            raise Fatal(f"{rec.local_id}: {exc}") from None
    elif fmt == "marcxml":
        if prepared.marc is None:
            raise Fatal(f"{rec.local_id} is a Dublin Core record; it has no MARCXML form")
        click.echo(rec.source)
    elif fmt == "dc":
        click.echo(formats.get("oai_dc", b"").decode())
    else:
        click.echo(
            json.dumps(_record_json(rec, specs, sorted(formats), versions, prepared), ensure_ascii=False, indent=2)
        )


def _record_json(rec: Record, specs: list[str], formats: list[str], versions: list[Any], prepared: Any) -> dict:
    svc = services()
    out: dict[str, Any] = {
        "local_id": rec.local_id,
        "oai_identifier": oai_identifier(svc.repository_id, rec.local_id),
        "url": svc.base_url + record_path(rec.local_id),
        "flavour": rec.flavour,
        "title": rec.title,
        "author": rec.author,
        "year": rec.year,
        "kind": rec.kind,
        "language": rec.language,
        "datestamp": rec.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created": rec.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "deleted": rec.deleted,
        "sets": specs,
        "formats": formats,
        "batch": rec.batch_id,
        "versions": len(versions),
        "dc": {name: prepared.dc.get(name) for name in dcmod.ELEMENTS if prepared.dc.get(name)},
    }
    from repository.records.attachments import files_of, pages_of

    with svc.db.sessions() as session:
        out["files"] = [
            {"name": f.name, "url": file_url(svc.base_url, rec.local_id, f.name), "size": f.size, "mime": f.mime,
             "sha256": f.sha256, "md5": f.md5, "access": f.access,
             "embargo_until": f.embargo_until.isoformat() if f.embargo_until else None,
             "extraction": f.extraction, "method": f.method, "message": f.message, "languages": f.languages,
             "confidence": f.confidence,
             "pages": [{"page": p.page, "text": p.text, "confidence": p.confidence} for p in pages_of(session, f.id)]}
            for f in files_of(session, rec.id)
        ]  # fmt: skip
    if prepared.marc is not None:
        out["leader"] = prepared.marc.leader
        out["fields"] = [
            {"tag": f.tag, "data": f.data}
            if len(f) == 2
            else {"tag": f.tag, "ind1": f.ind1, "ind2": f.ind2, "subfields": [[c, v] for c, v in f.subfields]}
            for f in prepared.marc.fields
        ]
    return out


@main.command("history")
@click.argument("ident", metavar="ID")
@click.option("--restore", type=int, metavar="N", help="bring version N back as a new version")
def history_cmd(ident: str, restore: int | None) -> None:
    """List the versions of record ID, or restore one."""
    svc = services()
    with svc.db.session() as session:
        rec = _record(session, ident)
        if restore is not None:
            if not catalogue.restore_version(session, rec, restore, svc.base_url, actor="cli"):
                raise Fatal(f"{rec.local_id} has no version {restore}")
            click.echo(f"restored version {restore} of {rec.local_id} as a new version")
            return
        for v in catalogue.versions(session, rec):
            title = prepare_title(v.flavour, v.source)
            batch = f"batch {v.batch_id}" if v.batch_id else (v.actor or "-")
            click.echo(f"{v.number}\t{v.created:%Y-%m-%dT%H:%M:%SZ}\t{v.action}\t{batch}\t{title}")


def prepare_title(flavour: str, source: str) -> str:
    """The title of a stored version, for listings."""
    return prepare_source(flavour, source).title


# ------------------------------------------------------------------------------------------ batches


@main.group("batches")
def batches_group() -> None:
    """Import batches: what became of each imported file's records."""


@batches_group.command("list")
def batches_list() -> None:
    """List import batches, newest first."""
    svc = services()
    with svc.db.sessions() as session:
        for b in session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())):
            click.echo(
                f"{b.id}\t{b.started:%Y-%m-%dT%H:%M:%SZ}\t{b.status}\t{b.file_name}\t{b.records} records: "
                f"{b.created} created, {b.updated} updated, {b.unchanged} unchanged, {b.skipped} skipped, "
                f"{b.rejected} rejected"
            )


def _batch(session: Any, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise Fatal(f"no batch {batch_id}")
    return batch


@batches_group.command("show")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--json", "as_json", is_flag=True)
def batches_show(batch_id: int, as_json: bool) -> None:
    """Show one batch: its counts and every problem found."""
    svc = services()
    with svc.db.sessions() as session:
        b = _batch(session, batch_id)
        items = session.scalars(select(BatchItem).where(BatchItem.batch_id == b.id).order_by(BatchItem.id)).all()
    data = {
        "batch": b.id,
        "file": b.file_name,
        "object": b.object_key,
        "size": b.size,
        "status": b.status,
        "message": b.message,
        "started": f"{b.started:%Y-%m-%dT%H:%M:%SZ}",
        "finished": f"{b.finished:%Y-%m-%dT%H:%M:%SZ}" if b.finished else None,
        "options": json.loads(b.options or "{}"),
        **{k: getattr(b, k) for k in ("records", "created", "updated", "unchanged", "skipped", "rejected", "warnings")},
        "problems": [
            {
                "position": i.position,
                "offset": i.offset,
                "line": i.line,
                "outcome": i.outcome,
                "reason": i.reason,
                "record": i.local_id,
            }
            for i in items
        ],
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for key in (
        "batch",
        "file",
        "object",
        "status",
        "started",
        "finished",
        "records",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "rejected",
        "warnings",
    ):
        click.echo(f"{key}: {data[key]}")
    for p in data["problems"]:
        where = f"offset {p['offset']}" if p["offset"] is not None else f"line {p['line']}"
        click.echo(f"  record {p['position']} ({where}): {p['outcome']}: {p['reason']}")


@batches_group.command("rejected")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def batches_rejected(batch_id: int, out: Path) -> None:
    """Write the rejected and skipped records of BATCH to a file, to fix and re-import."""
    svc = services()
    with svc.db.sessions() as session:
        b = _batch(session, batch_id)
        raws = [
            raw
            for raw in session.scalars(
                select(BatchItem.raw)
                .where(BatchItem.batch_id == b.id, BatchItem.outcome.in_(("rejected", "skipped")))
                .order_by(BatchItem.position)
            )
            if raw
        ]
    xml = any(raw.lstrip()[:1] == b"<" for raw in raws)
    with open(out, "wb") as fh:
        if xml:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="{marcxml.SLIM_NS}">\n'.encode())
        for raw in raws:
            fh.write(raw + (b"\n" if xml else b""))
        if xml:
            fh.write(b"</collection>\n")
    click.echo(f"{len(raws)} records written to {out}")


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


@main.command("rerender")
def rerender_cmd() -> None:
    """Render every record's metadata formats again; records whose bytes change get a new datestamp.

    Run it after an upgrade that changes a crosswalk, or after changing KUTUBXONA_BASE_URL.
    """
    svc = services()
    with svc.db.session() as session:
        seen, changed = catalogue.rerender(session, svc.base_url)
    click.echo(f"{seen} records rendered, {changed} changed")


# ---------------------------------------------------------------------------- files


@main.command("attach")
@click.argument("ident", metavar="ID")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--access", default="open", show_default=True, help="open, restricted or embargo:YYYY-MM-DD")
@click.option("--ocr", "ocr_mode", type=click.Choice(OCR_MODES), default="auto", show_default=True)
@click.option("--lang", help="OCR languages, e.g. uzb+rus (default: the record's languages, else all four)")
def attach_cmd(ident: str, files: tuple[Path, ...], access: str, ocr_mode: str, lang: str | None) -> None:
    """Attach FILES to record ID, extract or recognise their text."""
    from repository.records.attachments import AttachError, attach, parse_access, run_extraction
    from repository.records.models import RecordFile
    from repository.storage import StorageError

    svc = services()
    try:
        parse_access(access)
    except AttachError as exc:
        raise Fatal(str(exc)) from None
    failed = 0
    for path in files:
        try:
            with svc.db.session() as session:
                rec = _record(session, ident)
                done = attach(session, svc.store, svc.base_url, rec, path, access)
        except (AttachError, StorageError) as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            failed += 1
            continue
        with svc.db.session() as session:
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
    from repository.records.attachments import run_extraction
    from repository.records.models import RecordFile

    svc = services()
    if bool(ident) == every:
        raise Fatal("give an ID or --all")
    with svc.db.sessions() as session:
        stmt = select(RecordFile.id).order_by(RecordFile.id)
        if ident:
            stmt = stmt.where(RecordFile.record_id == _record(session, ident).id)
        if not redo:
            stmt = stmt.where(RecordFile.extraction.in_(("pending", "failed")))
        ids = list(session.scalars(stmt))
    failed = 0
    with click.progressbar(ids, label="text", file=sys.stderr if _interactive() else open(os.devnull, "w")) as bar:
        for file_id in bar:
            with svc.db.session() as session:  # one commit per file: an interrupted run resumes
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
    from repository.records.attachments import check_fixity

    svc = services()
    bad = 0
    with svc.db.sessions() as session:
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
    from repository.records.attachments import copy_objects
    from repository.records.models import RecordFile
    from repository.storage import StorageError, open_store

    svc = services()
    try:
        target = open_store(target_url, endpoint=svc.conf["S3_ENDPOINT"])
    except StorageError as exc:
        raise Fatal(str(exc)) from None
    with svc.db.sessions() as session:
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
    from repository.records.attachments import release_embargoes

    svc = services()
    with svc.db.session() as session:
        released = release_embargoes(session, svc.base_url)
    for name in released:
        click.echo(f"opened {name}")
    click.echo(f"{len(released)} files released")


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
    from harvest.runner import SourceError, add_source

    svc = services()
    try:
        with svc.db.session() as session:
            add_source(session, name, base_url, prefix, list(sets))
    except (SourceError, catalogue.SetError) as exc:
        raise Fatal(str(exc)) from None
    click.echo(f"source {name}: {base_url} ({prefix})")


@harvest_group.command("run")
@click.argument("name", required=False)
@click.option("--full", is_flag=True, help="harvest everything again and tombstone what the source no longer has")
@click.option("--json", "as_json", is_flag=True, help="one JSON summary per source on stdout")
def harvest_run(name: str | None, full: bool, as_json: bool) -> None:
    """Harvest NAME (or every source): incrementally, finishing any interrupted run first."""
    from harvest.runner import Runner, SourceError, get_source

    svc = services()
    with svc.db.sessions() as session:
        try:
            names = [get_source(session, name).name] if name else list(session.scalars(select(HarvestSource.name)))
        except SourceError as exc:
            raise Fatal(str(exc)) from None
    if not names:
        raise Fatal("no harvest sources (add one with `kutubxona harvest add`)")
    runner = Runner(svc)
    worst = 0
    for source in names:
        report = _harvest_one(runner, source, full)
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
        worst = max(worst, 2 if report.error else (1 if report.set_aside else 0))
    if worst:
        sys.exit(worst)


def _harvest_one(runner: Any, name: str, full: bool) -> Any:
    if not _interactive():
        return runner.run(name, full)
    started = time.monotonic()
    with click.progressbar(length=1, label=name, file=sys.stderr, show_percent=False, show_pos=False,
                           item_show_func=lambda text: text) as bar:  # fmt: skip

        def progress(report: Any, page: Any) -> None:
            rate = report.records / max(time.monotonic() - started, 1e-6)
            size = f" of {page.complete_size}" if page is not None and page.complete_size else ""
            bar.update(0, f"{report.records}{size} records, {report.pages} pages, {rate:,.0f}/s")
            bar.render_progress()

        return runner.run(name, full, progress)


@harvest_group.command("status")
@click.option("--json", "as_json", is_flag=True)
def harvest_status(as_json: bool) -> None:
    """Each source: where its harvest stands."""
    svc = services()
    with svc.db.sessions() as session:
        sources = session.scalars(select(HarvestSource).order_by(HarvestSource.name)).all()
    rows = [
        {"name": s.name, "base_url": s.base_url, "prefix": s.prefix, "sets": json.loads(s.sets), "status": s.status,
         "granularity": s.granularity, "last_response_date": s.last_response_date,
         "last_finished": f"{s.last_finished:%Y-%m-%dT%H:%M:%SZ}" if s.last_finished else None,
         "run_started": f"{s.run_started:%Y-%m-%dT%H:%M:%SZ}" if s.run_started else None,
         "run": {"records": s.run_records, "deleted": s.run_deleted, "set_aside": s.run_set_aside,
                 "pages": s.run_pages, "token": bool(s.run_token)},
         "message": s.message}
        for s in sources
    ]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        last = r["last_response_date"] or "never"
        click.echo(f"{r['name']}\t{r['status']}\tlast {last}\t{r['base_url']} ({r['prefix']})\t{r['message']}")


@harvest_group.command("remove")
@click.argument("name")
def harvest_remove(name: str) -> None:
    """Forget source NAME (the records harvested from it stay, in set source:NAME)."""
    from harvest.runner import SourceError, get_source

    svc = services()
    try:
        with svc.db.session() as session:
            session.delete(get_source(session, name))
    except SourceError as exc:
        raise Fatal(str(exc)) from None
    click.echo(f"removed source {name}; its records stay in set source:{name}")


@main.group("sample")
def sample_group() -> None:
    """The sample collection Kutubxona makes itself."""


@sample_group.command("build")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def sample_build(folder: Path) -> None:
    """Write the sample collection's files into FOLDER."""
    from repository.records.sample import build

    for spec in build(folder):
        click.echo(f"{spec.path}\t{spec.count} records\t{spec.description}")


@sample_group.command("load")
def sample_load() -> None:
    """Build the sample collection under VAR_DIR/sample, create its sets and import it."""
    from repository.records.sample import SETS, build

    svc = services()
    folder = Path(svc.conf["VAR_DIR"]) / "sample"
    files = build(folder)
    with svc.db.session() as session:
        for spec, (name, description) in SETS.items():
            catalogue.add_set(session, spec, name, description)
    importer = svc.importer()
    worst = 0
    for f in files:
        report = _import_one(importer, f.path, ImportOptions(sets=f.sets, actor="sample"))
        _print_report(report, False)
        worst = max(worst, report.exit_code)
    if worst:
        sys.exit(worst)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="requests served at once per worker")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web site and OAI-PMH with gunicorn."""
    svc = services()  # applies pending migrations once, before the workers start
    click.echo(f"Kutubxona at {svc.base_url}/  OAI-PMH at {svc.base_url}/oai")
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"{host}:{port}",
            "--access-logfile",
            "-",
            "repository.wsgi:app",
        ],
    )


if __name__ == "__main__":
    main()
