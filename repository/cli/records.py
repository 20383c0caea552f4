"""Commands on the catalogue: import, export, sets, show, delete, history, batches."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import click

from repository import catalogue
from repository.actions import exhibitions, exporting, outfile
from repository.actions import records as record_actions
from repository.actions.exporting import EXPORT_FORMATS, write_rejected
from repository.actions.importing import ImportOptions, Report, batch_status
from repository.actions.unpacking import Received
from repository.catalogue import queries
from repository.catalogue.models import ImportBatch, Record
from repository.cli import Fatal, Partial, interactive, main, services, utc_text
from repository.cli.jobs import background_option, queued
from repository.metadata import dc as dcmod
from repository.metadata.formats import file_url, prepare_source
from repository.metadata.identifiers import oai_identifier, record_path
from repository.metadata.keys import MATCH_DEFAULT, parse_match
from repository.metadata.marc import to_text
from repository.metadata.marcxml import to_marcxml
from repository.metadata.reading import FLAVOURS, SYNTAXES

# ------------------------------------------------------------------------------------------ import


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--syntax", type=click.Choice(SYNTAXES), default="auto", show_default=True)
@click.option("--flavour", type=click.Choice(FLAVOURS), default="auto", show_default=True)
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "marc-8", "cp1251", "koi8-r", "cp866", "iso8859-5"]),
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
@click.option(
    "--match",
    "match",
    default=",".join(MATCH_DEFAULT),
    show_default=True,
    metavar="KINDS",
    help="keys that tell a record we already hold, strongest first; while 'control' is among them, "
    "records whose control numbers (001+003) differ are never merged by a weaker key",
)
@click.option("--dry-run", is_flag=True, help="report what would happen; store nothing")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per file on stdout")
@background_option
def import_cmd(
    files: tuple[Path, ...],
    syntax: str,
    flavour: str,
    encoding: str,
    sets: tuple[str, ...],
    on_match: str,
    match: str,
    dry_run: bool,
    as_json: bool,
    background: bool,
) -> None:
    """Import ISO 2709, MARCXML or Dublin Core FILES ('-' for standard input; gzip, bzip2, xz or zip
    too); every record is created, updated, unchanged, skipped or rejected with its reason."""
    svc = services()
    try:
        kinds = parse_match(match)
    except ValueError as exc:
        raise Fatal(str(exc)) from None
    options = ImportOptions(syntax, flavour, encoding, sets, on_match, dry_run, match=kinds)
    importer = svc.importer()
    importer.waiting = lambda message: click.echo(message, err=True)
    codes = []
    for path in files:
        source = sys.stdin.buffer if str(path) == "-" else path
        with importer.unpacked(source, str(path)) as received:
            for one in received:
                if background:  # kept in the object store, where a worker on any node can read it
                    codes.append(queue_import(one, options))
                    continue
                work = partial(importer.import_received, one, options)
                report = with_progress(one.label, one.size, work)
                if as_json:
                    click.echo(json.dumps(report.as_json(), ensure_ascii=False))
                else:
                    print_report(report, dry_run)
                codes.append(report.exit_code)
    sys.exit(exit_status(codes))


def queue_import(received: Received, options: ImportOptions) -> int:
    """Store a received file and queue its import as a job (``--background``); its exit status."""
    if received.error or received.path is None:
        click.echo(f"error: {received.name}: {received.error}", err=True)
        return 2
    with open(received.path, "rb") as fh:
        key = services().store.put(fh).key
    queued("import", {"object": key, "name": received.label, "options": asdict(options)}, f"import {received.name}")
    return 0


def exit_status(codes: list[int]) -> int:
    """The exit status of an import of several files (README): 2 when none could be imported at all,
    1 when some could not or some records were rejected, 0 when every record of every file was."""
    if all(code == 2 for code in codes):
        return 2
    return 1 if any(codes) else 0


def import_one(importer: Any, path: Path, options: ImportOptions) -> Report:
    """Import one file, with a progress bar when a person watches."""
    size = path.stat().st_size if path.exists() else 0
    return with_progress(path.name, size, lambda progress: importer.import_file(path, options, progress))


def with_progress(label: str, size: int, work: Callable[[Any], Report]) -> Report:
    """Run an import, given a progress callback that draws a bar of bytes read when a person watches."""
    if not interactive():
        return work(None)
    started = time.monotonic()
    state = {"records": 0}

    def show(_: Any) -> str:
        rate = state["records"] / max(time.monotonic() - started, 1e-6)
        return f"{state['records']} records, {rate:,.0f}/s"

    with click.progressbar(length=max(size, 1), label=label, file=sys.stderr, item_show_func=show) as bar:
        last = [0]

        def progress(done: int, records: int) -> None:
            state["records"] = records
            bar.update(max(done - last[0], 0), records)
            last[0] = done

        return work(progress)


def problem_line(p: dict[str, Any]) -> str:
    """One problem of an import, where it was and why."""
    where = f"offset {p['offset']}" if p["offset"] is not None else f"line {p['line']}"
    return f"  record {p['position']} ({where}): {p['outcome']}: {p['reason']}"


def print_report(report: Report, dry_run: bool) -> None:
    """The human-readable lines of one file's import."""
    if report.error:
        click.echo(f"error: {report.error}", err=True)
        return
    for note in report.notes:
        click.echo(f"warning: {report.file}: {note}", err=True)
    c = report.counts
    head = "dry run, nothing stored: " if dry_run else f"batch {report.batch}: "
    click.echo(
        f"{head}{report.file}: {c['records']} records: {c['created']} created, {c['updated']} updated, "
        f"{c['unchanged']} unchanged, {c['skipped']} skipped, {c['rejected']} rejected, "
        f"{c['warnings']} warnings"
    )
    if report.encoding and report.encoding["decided"]:
        click.echo(f"  code page: {report.encoding['why']}")
    for p in report.problems:
        if p["outcome"] == "warning":
            continue
        click.echo(problem_line(p))


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
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    required=True,
    help="a file (replaced whole when complete), a FIFO or device (written through), or - for standard output",
)
def export_cmd(fmt: str, since: str | None, spec: str | None, out: Path) -> None:
    """Export live records as ISO 2709 (UTF-8), MARCXML or oai_dc; Dublin Core records as MARC 21."""
    svc = services()
    since_date = _parse_date(since)
    to_stdout = outfile.is_stdout(out)  # then the records alone go there; what is said goes to stderr
    if sys.stderr.isatty():  # a person watches: a bar on stderr; a cron job's log stays quiet
        total = exporting.count(svc, since_date, spec)
        with click.progressbar(length=max(total, 1), label="export", file=sys.stderr) as bar:
            report = exporting.export_file(svc, fmt, out, since_date, spec, progress=bar.update)
    else:
        report = exporting.export_file(svc, fmt, out, since_date, spec)
    click.echo(f"{report.written} records written to {outfile.name_of(out)}", err=to_stdout)
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
    record_actions.add_set(services(), spec, name, description)
    click.echo(f"set {spec}: {name}")


@sets_group.command("exhibit")
@click.argument("spec")
@click.option("--introduction", "introduction", type=click.File("r", encoding="utf-8"),
              help="a UTF-8 text file (or - for standard input): paragraphs split by blank lines")  # fmt: skip
@click.option("--cover", type=click.File("rb"), help="a JPEG, PNG, WebP or GIF image shown with the exhibition")
@click.option("--items", type=click.File("r", encoding="utf-8"),
              help="one record per line, ID or ID<TAB>caption, in the order shown; replaces the list")  # fmt: skip
@click.option("--clear", is_flag=True, help="empty the exhibition first (introduction, cover and items)")
@click.option("--json", "as_json", is_flag=True)
def sets_exhibit(spec: str, introduction, cover, items, clear: bool, as_json: bool) -> None:
    """Make set SPEC a virtual exhibition: an introduction, a cover and curated items in order.

    Items must be live records of the set (or of a set below it); the rest of the set follows them
    by title.  Nothing is written when any item is wrong.
    """
    shown = exhibitions.write_exhibition(
        services(),
        spec,
        introduction=introduction.read() if introduction is not None else None,
        cover=cover,
        items=exhibitions.parse_items(items.read()) if items is not None else None,
        clear=clear,
    )
    if as_json:
        click.echo(json.dumps({"spec": shown.spec, "introduction": shown.introduction,
                               "cover": shown.cover_type, "items": shown.items}, ensure_ascii=False))  # fmt: skip
        return
    intro = f"{len(shown.introduction)} characters" if shown.introduction else "none"
    click.echo(f"exhibition {shown.spec}: introduction {intro}, cover {shown.cover_type or 'none'}, "
               f"{len(shown.items)} curated items")  # fmt: skip


@sets_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def sets_list(as_json: bool) -> None:
    """List the sets with the number of records directly in each."""
    svc = services()
    with svc.db.reading() as session:
        sets = queries.all_sets(session)
        counts = catalogue.set_counts(session)
        curated = {s.id: queries.exhibit_records(session, s) for s in queries.exhibitions(session)}
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "spec": s.spec,
                        "name": s.name,
                        "description": s.description,
                        "records": counts.get(s.id, 0),
                        "introduction": s.introduction,
                        "cover": s.cover_type,
                        "exhibit": curated.get(s.id, []),
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
    local_id, changed = record_actions.delete(services(), ident, actor="cli")
    click.echo(f"deleted {local_id}" if changed else f"{local_id} was already deleted")


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
    with svc.db.reading() as session:
        rec = record_actions.find(session, svc, ident)
        specs = catalogue.set_specs(session, rec.id)
        formats = queries.stored_formats(session, rec.id)
        versions = catalogue.versions(session, rec)
        files = _files_json(session, svc.base_url, rec) if fmt == "json" else []
    prepared = prepare_source(rec.flavour, rec.source)
    if fmt == "text":
        if prepared.marc is not None:
            click.echo(to_text(prepared.marc))
        else:
            for name in dcmod.ELEMENTS:
                for value in prepared.dc.get(name):
                    click.echo(f"dc:{name}: {value}")
    elif fmt == "iso2709":  # as the export writes it: Dublin Core as MARC 21, UNIMARC ready for exchange
        try:
            sys.stdout.buffer.write(exporting.export_record(svc, rec.local_id, "iso2709"))
        except exporting.Unsupported as exc:
            raise Fatal(f"{rec.local_id}: {exc}") from None
    elif fmt == "marcxml":
        if prepared.marc is None:  # a Dublin Core record: converted as the export converts it
            click.echo(to_marcxml(exporting.marc_form(rec, exporting.Agency.of(svc))))
        else:
            click.echo(rec.source)
    elif fmt == "dc":
        click.echo(formats.get("oai_dc", b"").decode())
    else:
        data = _record_json(rec, specs, sorted(formats), versions, prepared, files)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _record_json(
    rec: Record, specs: list[str], formats: list[str], versions: list[Any], prepared: Any, files: list[dict]
) -> dict:
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
        "datestamp": utc_text(rec.datestamp),
        "created": utc_text(rec.created),
        "deleted": rec.deleted,
        "sets": specs,
        "formats": formats,
        "batch": rec.batch_id,
        "versions": len(versions),
        "dc": {name: prepared.dc.get(name) for name in dcmod.ELEMENTS if prepared.dc.get(name)},
        "files": files,
    }
    if prepared.marc is not None:
        out["leader"] = prepared.marc.leader
        out["fields"] = [
            {"tag": f.tag, "data": f.data}
            if len(f) == 2
            else {"tag": f.tag, "ind1": f.ind1, "ind2": f.ind2, "subfields": [[c, v] for c, v in f.subfields]}
            for f in prepared.marc.fields
        ]
    return out


def _files_json(session: Any, base_url: str, rec: Record) -> list[dict]:
    return [
        {"name": f.name, "url": file_url(base_url, rec.local_id, f.name), "size": f.size, "mime": f.mime,
         "sha256": f.sha256, "md5": f.md5, "access": f.access,
         "embargo_until": f.embargo_until.isoformat() if f.embargo_until else None,
         "extraction": f.extraction, "method": f.method, "message": f.message, "languages": f.languages,
         "confidence": f.confidence,
         "pages": [{"page": p.page, "text": p.text, "confidence": p.confidence}
                   for p in queries.pages_of(session, f.id)]}
        for f in queries.files_of(session, rec.id)
    ]  # fmt: skip


@main.command("history")
@click.argument("ident", metavar="ID")
@click.option("--restore", type=int, metavar="N", help="bring version N back as a new version")
def history_cmd(ident: str, restore: int | None) -> None:
    """List the versions of record ID, or restore one."""
    svc = services()
    if restore is not None:
        local_id = record_actions.restore(svc, ident, restore, actor="cli")
        click.echo(f"restored version {restore} of {local_id} as a new version")
        return
    for v in record_actions.history(svc, ident):
        title = prepare_title(v.flavour, v.source)
        batch = f"batch {v.batch_id}" if v.batch_id else (v.actor or "-")
        click.echo(f"{v.number}\t{utc_text(v.created)}\t{v.action}\t{batch}\t{title}")


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
    with svc.db.reading() as session:
        for b in queries.batches(session):
            click.echo(
                f"{b.id}\t{utc_text(b.started)}\t{batch_status(b)}\t{b.file_name}\t{b.records} records: "
                f"{b.created} created, {b.updated} updated, {b.unchanged} unchanged, {b.skipped} skipped, "
                f"{b.rejected} rejected"
            )


def _batch(session: Any, batch_id: int) -> ImportBatch:
    batch = queries.batch(session, batch_id)
    if batch is None:
        raise Fatal(f"no batch {batch_id}")
    return batch


@batches_group.command("show")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--json", "as_json", is_flag=True)
def batches_show(batch_id: int, as_json: bool) -> None:
    """Show one batch: its counts and every problem found."""
    svc = services()
    with svc.db.reading() as session:
        b = _batch(session, batch_id)
        items = queries.batch_items(session, b.id)
    data = {
        "batch": b.id,
        "file": b.file_name,
        "object": b.object_key,
        "size": b.size,
        "status": batch_status(b),
        "message": b.message,
        "started": utc_text(b.started),
        "finished": utc_text(b.finished),
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
        click.echo(problem_line(p))


@batches_group.command("resume")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--json", "as_json", is_flag=True, help="the batch's report as one JSON object")
def batches_resume(batch_id: int, as_json: bool) -> None:
    """Finish an interrupted or failed import from its first record not yet stored (the file is in the store)."""
    svc = services()
    with svc.db.reading() as session:
        b = _batch(session, batch_id)
        if batch_status(b) == "running":
            raise Fatal(f"batch {batch_id} is still running (process {b.pid} on {b.host})")
        if b.status == "done":
            raise Fatal(f"batch {batch_id} is complete: nothing to resume")
        done, size, name = b.records, b.size, b.file_name
    importer = svc.importer()
    importer.waiting = lambda message: click.echo(message, err=True)
    report = with_progress(f"{name} (from record {done + 1})", size, lambda p: importer.resume(batch_id, p))
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print_report(report, dry_run=False)
    sys.exit(report.exit_code)


@batches_group.command("rejected")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def batches_rejected(batch_id: int, out: Path) -> None:
    """Write the rejected and skipped records of BATCH to a file, to fix and re-import."""
    written = write_rejected(services(), batch_id, out)
    click.echo(f"{written} records written to {outfile.name_of(out)}", err=outfile.is_stdout(out))
