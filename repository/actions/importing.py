"""The import service: a file in, a batch out, every record accounted for.

``created + updated + unchanged + skipped + rejected == records`` always holds, chunk by chunk:
each chunk of records and the batch's counters are committed in one transaction, so an
interrupted import leaves a consistent batch, and running the same import again finishes the
job (records already imported come out ``unchanged``).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from repository import catalogue
from repository.actions.unpacking import Bounds, Received, Unpacked
from repository.catalogue.models import BatchItem, ImportBatch, utcnow
from repository.db import Database
from repository.errors import Handback, KutubxonaError, NotFound
from repository.metadata.formats import Prepared
from repository.metadata.keys import ORDER as KEY_ORDER
from repository.metadata.preparing import Pair, collecting_less, prepared_records
from repository.metadata.reading import Incoming, Limits, UnreadableFile, code_page_of, read, sniff
from repository.storage import ObjectStore, local_copy

ON_MATCH = ("update", "skip", "new")
COUNTERS = ("records", "created", "updated", "unchanged", "skipped", "rejected", "warnings")
MAX_REPORTED = 10_000
PROBLEM_KEYS = ("position", "offset", "line", "outcome", "reason")
PARALLEL_MIN_BYTES = 4 << 20  # below about 8,000 records, starting a worker costs more than it saves


@dataclass(frozen=True)
class ImportOptions:
    """How to read and where to put the records of one import."""

    syntax: str = "auto"
    flavour: str = "auto"
    encoding: str = "auto"
    sets: tuple[str, ...] = ()
    on_match: str = "update"
    dry_run: bool = False
    actor: str = "cli"
    match: tuple[str, ...] = tuple(KEY_ORDER)  # key kinds to match by, strongest first (keys.parse_match)


@dataclass
class Report:
    """What became of one file's records."""

    file: str
    batch: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    problems: list[dict[str, Any]] = field(default_factory=list)
    omitted: int = 0  # problems past MAX_REPORTED: in the batch, not in memory
    error: str | None = None  # the file could not be imported at all
    notes: list[str] = field(default_factory=list)  # what is wrong with the file as a whole (cut short)
    encoding: dict[str, Any] | None = None  # the code page decided for the file's 8-bit records, and why

    def add_problems(self, problems: list[dict[str, Any]]) -> None:
        """Keep problems up to ``MAX_REPORTED`` (memory stays bounded); count the rest."""
        room = max(MAX_REPORTED - len(self.problems), 0)
        self.problems.extend(problems[:room])
        self.omitted += max(len(problems) - room, 0)

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` line of this file."""
        out: dict[str, Any] = {
            "batch": self.batch,
            "file": self.file,
            **self.counts,
            "problems": self.problems,
        }
        if self.encoding:
            out["encoding"] = self.encoding
        if self.omitted:
            out["problems_omitted"] = self.omitted  # all of them are in `kutubxona batches show`
        if self.error:
            out["error"] = self.error
        if self.notes:
            out["notes"] = self.notes
        return out

    @property
    def exit_code(self) -> int:
        """0 all imported, 1 some records rejected or the file cut short, 2 nothing could be done."""
        if self.error:
            return 2
        return 1 if self.counts["rejected"] or self.notes else 0


class ImportRefused(KutubxonaError, ValueError):
    """The import cannot start (an unknown set, a bad option); nothing was read or stored."""


Progress = Callable[[int, int], None]  # (bytes read so far, records so far)


class Importer:
    """Imports files into the catalogue of one database, keeping originals in one object store."""

    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        base_url: str,
        chunk: int = 1000,
        workers: int = 2,
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
        limits: Limits = Limits(),  # noqa: B008 - frozen
        bounds: Bounds = Bounds(),  # noqa: B008 - frozen
    ) -> None:
        self.db = db
        self.store = store
        self.base_url = base_url
        self.chunk = chunk
        self.workers = workers  # processes preparing ISO 2709 records for files of parallel_min_bytes or more
        self.parallel_min_bytes = parallel_min_bytes
        self.limits = limits  # the most an XML record and field may take
        self.bounds = bounds  # how far a compressed file may unpack
        self.waiting: Callable[[str], None] | None = None  # told once when the import waits for another
        self.opened: Callable[[int], None] | None = None  # told the batch's id as soon as it exists

    def unpacked(self, source: Path | BinaryIO, name: str | None = None) -> Unpacked:
        """The files ``source`` holds (a file, a pipe, standard input; gzip, bzip2, xz or zip), to import
        one by one, each from a private copy (``with importer.unpacked(path) as files: ...``)."""
        return Unpacked(source, name or str(source), self.bounds)

    def import_file(self, path: Path, options: ImportOptions, progress: Progress | None = None) -> Report:
        """Import one file, unpacked when compressed; a file we cannot read gives a report with ``error``
        and stores nothing, as does an archive of several files (``unpacked`` gives each)."""
        with self.unpacked(path) as files:
            if files.count > 1:
                report = Report(str(path))
                report.error = f"{path}: holds {files.count} files; import each of them (kutubxona import does)"
                return report
            return self.import_received(next(iter(files)), options, progress)

    def import_received(self, received: Received, options: ImportOptions, progress: Progress | None = None) -> Report:
        """Import one received file from its private copy: the copy is stored as the batch's original, and
        the records are read from it, so the batch is exactly the file stored whatever happens to the source."""
        report = Report(received.name)
        if options.on_match not in ON_MATCH:
            raise ImportRefused(f"--on-match must be one of {', '.join(ON_MATCH)}")
        with self.db.transaction() as session:
            set_ids = set(catalogue.set_ids(session, options.sets).values()) if options.sets else set()
        if received.error or received.path is None:
            report.error = f"{received.name}: {received.error}"
            return report
        if received.note:
            report.notes.append(received.note)
        with open(received.path, "rb") as stream:
            try:
                if next(read(stream, options.syntax, options.flavour, options.encoding), None) is None:
                    report.error = f"{received.name}: no records found"
                    return report
            except UnreadableFile as exc:
                report.error = f"{received.name}: {exc}"
                return report
            stream.seek(0)
            if options.encoding == "auto" and sniff(stream.peek(4096)[:4096]) == "iso2709":
                choice = code_page_of(stream)  # one decision for the file's 8-bit records, from all of them
                report.encoding = {"decided": choice.encoding, "why": choice.why}
            run = _Run(self, options, set_ids, report, size=received.size)
            if options.dry_run:
                with self.db.reading() as session:
                    run.dry_session = session
                    run.read(stream, progress)
                return report
            stored = self.store.put(stream)  # the original, byte for byte, before any record
            if stored.key != received.sha256:
                report.error = (f"{received.name}: the object store holds {stored.key} for it, not the sha256 "
                                f"{received.sha256} of the copy read; nothing imported")  # fmt: skip
                return report
            stream.seek(0)
            report.batch = run.batch_id = self._open_batch(received.label, stored.key, stored.size, options,
                                                           report.encoding)  # fmt: skip
            if self.opened:
                self.opened(run.batch_id)
            self._fill(run, stream, progress)
            self._complete_interrupted(stored.key, run.batch_id)
        return report

    def resume(self, batch_id: int, progress: Progress | None = None) -> Report:
        """Go on with an import that stopped (interrupted, failed, handed back) after its last stored record;
        a complete batch's report as it stands.

        The batch's counters are committed with each chunk of records, so they say exactly how many
        records of the file are done; the file is read again from the object store, those records
        are passed over unprepared, and the rest go into the same batch with the same options.
        """
        with self.db.reading() as session:
            batch = session.get(ImportBatch, batch_id)
            if batch is None:
                raise NotFound(f"no batch {batch_id}")
            recorded = json.loads(batch.options or "{}")
            columns = [getattr(BatchItem, name) for name in PROBLEM_KEYS]
            items = session.execute(
                select(*columns).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id).limit(MAX_REPORTED)
            ).all()
            counts = {name: getattr(batch, name) for name in COUNTERS}
            key, size, skip, status = batch.object_key, batch.size, batch.records, batch.status
            report = Report(batch.file_name, batch=batch_id, counts=counts, encoding=recorded.get("code_page"))
            options = ImportOptions(batch.syntax, recorded.get("flavour", "auto"), recorded.get("encoding", "auto"),
                                    tuple(recorded.get("sets", ())), recorded.get("on_match", "update"),
                                    actor=recorded.get("actor", "cli"),
                                    match=tuple(recorded.get("match") or KEY_ORDER))  # fmt: skip
        report.add_problems([i._asdict() for i in items])
        found = sum(counts[name] for name in ("warnings", "rejected", "skipped"))  # one batch item each
        report.omitted = max(found - len(report.problems), 0)
        if status == "done":  # finished after all (a job taken over once its import had closed the batch)
            return report
        with self.db.transaction() as session:
            set_ids = set(catalogue.set_ids(session, options.sets).values()) if options.sets else set()
            session.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
                status="running", message="", finished=None, host=socket.gethostname(), pid=os.getpid(),
                heartbeat=utcnow()))  # fmt: skip
        with local_copy(self.store, key, report.file) as path, open(path, "rb") as stream:
            run = _Run(self, options, set_ids, report, size=size, batch_id=batch_id, skip=skip)
            self._fill(run, stream, progress)
        return report

    def _fill(self, run: _Run, stream: BinaryIO, progress: Progress | None) -> None:
        """Read the file into its batch and close the batch: done, failed with the reason, or left to go on."""
        try:
            run.read(stream, progress)
        except Handback:
            raise  # everything so far is committed; ``resume`` goes on from there
        except BaseException as exc:
            self._close_batch(run.batch_id, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self._close_batch(run.batch_id, "done", "")

    def _open_batch(
        self, name: str, key: str, size: int, options: ImportOptions, decided: dict[str, Any] | None
    ) -> int:
        recorded = {"flavour": options.flavour, "encoding": options.encoding, "sets": list(options.sets),
                    "code_page": decided,
                    "on_match": options.on_match, "actor": options.actor, "match": list(options.match)}  # fmt: skip
        with self.db.transaction() as session:
            batch = ImportBatch(
                file_name=name, object_key=key, size=size, syntax=options.syntax,
                options=json.dumps(recorded), status="running", started=utcnow(),
                host=socket.gethostname(), pid=os.getpid(), heartbeat=utcnow(),
            )  # fmt: skip
            session.add(batch)
            session.flush()
            return batch.id

    def _complete_interrupted(self, key: str, batch_id: int) -> None:
        """Earlier imports of the same file that were interrupted are completed by this one."""
        with self.db.transaction() as session:
            earlier = session.scalars(
                select(ImportBatch).where(
                    ImportBatch.object_key == key, ImportBatch.status == "running", ImportBatch.id < batch_id
                )
            ).all()
            for batch in earlier:
                if batch_status(batch) == "interrupted":
                    batch.status, batch.message = "interrupted", f"completed by batch {batch_id}"

    def _close_batch(self, batch_id: int | None, status: str, message: str) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == batch_id)
                .values(status=status, message=message, finished=utcnow())
            )


@dataclass
class _Run:
    """The import of one file: its options, target sets, batch and report."""

    importer: Importer
    options: ImportOptions
    set_ids: set[int]
    report: Report
    size: int = 0  # of the file, in bytes
    batch_id: int | None = None
    dry_session: Session | None = None  # a dry run reads in one session and writes nothing
    # what a dry run would have stored so far, so that later records match it: key -> state, local ids
    dry_states: dict[tuple[str, str], catalogue.State] = field(default_factory=dict)
    dry_taken: set[str] = field(default_factory=set)
    said_waiting: bool = False
    skip: int = 0  # records of the file already stored by an earlier run of this batch

    def read(self, stream: BinaryIO, progress: Progress | None) -> None:
        """Read every record of ``stream`` and commit them chunk by chunk."""
        opts = self.options
        chunk: list[Pair] = []
        workers = self.importer.workers if self.size >= self.importer.parallel_min_bytes else 0
        base_url = self.importer.base_url
        with collecting_less():
            page = (self.report.encoding or {}).get("decided")
            pairs = prepared_records(stream, opts.syntax, opts.flavour, opts.encoding, base_url, workers, page,
                                     skip=self.skip, limits=self.importer.limits)  # fmt: skip
            for pair in pairs:
                chunk.append(pair)
                if len(chunk) >= self.importer.chunk:
                    self.commit(chunk)
                    if progress:
                        progress(_read_up_to(chunk[-1][0], stream), self.report.counts["records"])
                    chunk = []
            if chunk:
                self.commit(chunk)
            if progress:
                progress(stream.tell(), self.report.counts["records"])

    def commit(self, chunk: list[Pair]) -> None:
        """Write one chunk and its share of the batch counters in one transaction."""
        if self.dry_session is not None:
            self.write(self.dry_session, chunk)
            return
        counts, problems, omitted = dict(self.report.counts), len(self.report.problems), self.report.omitted
        try:
            with self.importer.db.transaction() as session:
                # one import writes at a time: each must see what the other stored (no duplicates)
                if catalogue.serialise_writes(session) and self.importer.waiting and not self.said_waiting:
                    self.importer.waiting("another import is storing records; waiting for it")
                    self.said_waiting = True
                self.write(session, chunk)
        except BaseException:
            self.report.counts = counts  # the transaction was rolled back: so is the report
            del self.report.problems[problems:]
            self.report.omitted = omitted
            raise

    def write(self, session: Session, chunk: list[Pair]) -> None:
        """Decide and write one chunk, in parts where a record matches one earlier in the chunk."""
        while chunk:
            split = _first_repeat([prep for _, prep in chunk], self.options.match)
            part, chunk = (chunk[:split], chunk[split:]) if split else (chunk, [])
            self._write_part(session, part)

    def _write_part(self, session: Session, chunk: list[Pair]) -> None:
        prepared = [prep for _, prep in chunk]
        found = catalogue.lookup_keys(session, (k for p in prepared if p for k in p.keys))
        states = catalogue.load_states(session, found.values())
        taken = catalogue.taken_local_ids(session, [c for p in prepared if p for c in p.local_ids()])
        if self.dry_session is not None:  # what earlier chunks of the dry run would have stored
            for key in {k for p in prepared if p for k in p.keys} & self.dry_states.keys():
                state = self.dry_states[key]
                found[key], states[state.id] = state.id, state
            taken |= self.dry_taken
        changes: list[catalogue.Change] = []
        findings: list[dict[str, Any]] = []
        counts = dict.fromkeys(COUNTERS, 0)
        opts, batch = self.options, self.batch_id
        for item, prep in chunk:
            counts["records"] += 1
            for warning in item.warnings:
                counts["warnings"] += 1
                findings.append(_finding(batch, item, "warning", warning, None))
            if prep is None:
                outcome = "rejected" if item.rejected else "skipped"
                counts[outcome] += 1
                findings.append(_finding(batch, item, outcome, item.rejected or item.skipped or "", item.raw))
                continue
            state = _match(prep, found, states, opts.match)
            if state is not None and opts.on_match == "skip":
                counts["skipped"] += 1
                reason = f"matches record {state.local_id} (--on-match skip)"
                findings.append(_finding(batch, item, "skipped", reason, item.raw, state.local_id))
                continue
            if state is None or opts.on_match == "new":
                local_id = _allocate(session, prep, taken)
                taken.add(local_id)
                changes.append(catalogue.Change("create", local_id, prep, None, set(self.set_ids), batch, opts.actor))
                counts["created"] += 1
                continue
            same = state.content_hash == prep.content_hash and state.flavour == prep.flavour
            if same and not state.deleted and self.set_ids <= state.set_ids:
                counts["unchanged"] += 1
                continue
            action = "undelete" if state.deleted else ("update" if not same else "sets")
            content = prep if action != "sets" else None
            changes.append(
                catalogue.Change(action, state.local_id, content, state, set(self.set_ids), batch, opts.actor)
            )
            counts["updated"] += 1
        if self.dry_session is None:
            catalogue.apply(session, changes, self.importer.base_url)
        else:
            self._remember(changes)
        if findings and batch is not None:
            session.execute(insert(BatchItem), findings)
        for name in COUNTERS:
            self.report.counts[name] += counts[name]
        self.report.add_problems([_problem(f) for f in findings])
        if batch is not None:
            added = {name: getattr(ImportBatch, name) + counts[name] for name in COUNTERS}
            session.execute(update(ImportBatch).where(ImportBatch.id == batch).values(**added, heartbeat=utcnow()))

    def _remember(self, changes: list[catalogue.Change]) -> None:
        """A dry run stores nothing (and so holds no write lock): it remembers what it would have stored."""
        for change in changes:
            old, prep = change.state, change.prepared
            if prep is None:  # set membership only
                old.set_ids |= change.add_sets
                continue
            number = old.id if old is not None else -1 - len(self.dry_taken)
            state = catalogue.State(number, change.local_id, prep.flavour, prep.content_hash, False, 1,
                                    (old.set_ids if old else set()) | change.add_sets, _control(prep))  # fmt: skip
            self.dry_taken.add(change.local_id)
            for key in prep.keys:
                self.dry_states[key] = state


STALE = timedelta(minutes=15)  # a running import commits far more often than this


def batch_status(batch: ImportBatch, now: datetime | None = None) -> str:
    """The batch's status, ``interrupted`` for a running one whose process is gone."""
    if batch.status != "running":
        return batch.status
    if batch.host == socket.gethostname() and batch.pid is not None:
        try:
            os.kill(batch.pid, 0)
        except ProcessLookupError:
            return "interrupted"
        except PermissionError:
            pass  # alive, someone else's
    beat = batch.heartbeat or batch.started
    return "interrupted" if beat < (now or utcnow()) - STALE else "running"


def _match(
    prep: Prepared, found: dict[tuple[str, str], int], states: dict[int, catalogue.State], kinds: tuple[str, ...]
) -> catalogue.State | None:
    """The record an incoming one is, by the first of ``kinds`` (strongest first) held by some record.

    While control numbers are matched on, a weaker key (035, ISBN, ISSN, identifier, content) never
    merges two records whose control numbers (001 with 003) differ: the cataloguing systems have
    said they are different records (a copy each, the issues of one serial).  Matching without
    ``control`` lets the weaker keys merge them.
    """
    ctl = _control(prep)
    guarded = ctl is not None and "ctl" in kinds
    for kind in kinds:
        for key in prep.keys:
            if key[0] != kind or key not in found:
                continue
            state = states[found[key]]
            if guarded and kind != "ctl" and state.ctl is not None and state.ctl != ctl:
                continue
            return state
    return None


def _problem(finding: dict[str, Any]) -> dict[str, Any]:
    """A problem as the report lists it, from a finding or a stored batch item's columns."""
    return {key: finding[key] for key in PROBLEM_KEYS}


def _control(prep: Prepared | None) -> str | None:
    return next((v for k, v in prep.keys if k == "ctl"), None) if prep is not None else None


def _read_up_to(item: Incoming, stream: BinaryIO) -> int:
    """How far into the file the records stored so far reach (workers read ahead of them)."""
    return item.offset + len(item.raw) if item.offset is not None else stream.tell()


def _first_repeat(prepared: list[Prepared | None], kinds: tuple[str, ...]) -> int | None:
    """Index of the first record that would match an earlier one of the same chunk (see ``_match``).

    Such a record must see the earlier one stored first, so the chunk is written in two parts.
    Records that only share a weak key but carry different control numbers stay in one part.
    """
    guard = "ctl" in kinds
    holders: dict[tuple[str, str], set[str | None]] = {}
    for i, p in enumerate(prepared):
        if p is None:
            continue
        ctl = _control(p)
        for key in p.keys:
            if key[0] not in kinds or key not in holders:
                continue
            if key[0] == "ctl" or not guard or ctl is None or None in holders[key] or ctl in holders[key]:
                return i
        for key in p.keys:
            holders.setdefault(key, set()).add(ctl)
    return None


def _allocate(session: Session, p: Prepared, taken: set[str]) -> str:
    """The first free local identifier: 001, then 003-001, then with a numeric suffix."""
    candidates = p.local_ids()
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    n = 2
    while True:
        batch = [f"{candidates[-1]}-{i}" for i in range(n, n + 20)]
        used = taken | catalogue.taken_local_ids(session, batch)
        free = next((c for c in batch if c not in used), None)
        if free is not None:
            return free
        n += 20


def _finding(
    batch_id: int | None,
    item: Incoming,
    outcome: str,
    reason: str,
    raw: bytes | None,
    local_id: str | None = None,
) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "position": item.position,
        "offset": item.offset,
        "line": item.line,
        "outcome": outcome,
        "reason": reason,
        "raw": raw,
        "local_id": local_id,
    }


__all__ = ["Importer", "ImportOptions", "ImportRefused", "Report", "UnreadableFile"]
