"""Harvest runs: incremental, resumable after any crash, with deletions and reconciliation.

Each page's records and the source's position (window, set, resumption token, counts) are committed
in one transaction, so a run killed at any moment (kill -9 included) is finished by the next one:
it continues from the stored token, or, when that token has expired, restarts the same window from
its original ``from`` (sources need not send records in datestamp order; upserts make the repeat
harmless).  The next incremental run asks ``from`` the first responseDate of the last complete
run, at the source's granularity, minus a small overlap.

The runner keeps no state of its own: where a run stands and what its pages become are the
business of a ``Target`` (``repository.actions.harvesting`` writes them into the catalogue).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from harvest import errors
from harvest.client import Client
from harvest.pages import Page, Record

OVERLAP = timedelta(seconds=60)
Progress = Callable[["RunReport", Page | None], None]


@dataclass
class RunReport:
    """One run of one source."""

    source: str
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    set_aside: int = 0
    pages: int = 0
    seconds: float = 0.0
    resumed: bool = False
    retried: int = 0  # records set aside by earlier runs, read again and stored
    error: str | None = None
    refused: str | None = None  # a reconciliation that would have deleted too much, and did nothing
    problems: list[dict[str, str]] | None = None

    def as_json(self) -> dict:
        """The ``--json`` summary of the run."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Position:
    """Where a source's harvest stands, as its target keeps it."""

    base_url: str
    prefix: str
    sets: list[str | None]  # [None]: the whole repository
    running: bool  # a run was interrupted and is to be finished
    full: bool  # the run in progress is a full one
    set_index: int = 0
    token: str | None = None
    window_from: str | None = None
    last_response_date: str | None = None
    granularity: str = ""


@dataclass
class Written:
    """What one page did to the target."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    set_aside: list[tuple[str, str]] = field(default_factory=list)  # (source identifier, reason)


class Target(Protocol):
    """Where harvested records go and where each source's position is kept."""

    def position(self, name: str) -> Position:
        """The source's settings and where its harvest stands."""

    def begin(
        self, name: str, granularity: str, window_from: str | None, full: bool, response_date: str | None
    ) -> None:
        """Start a new run from ``window_from``; ``response_date`` is the next run's base."""

    def store_page(self, name: str, page: Page, now: datetime) -> Written:
        """Store one page's records and the position after it, together."""

    def set_done(self, name: str, set_index: int) -> None:
        """The set at ``set_index`` is harvested: the next one starts without a token."""

    def live_identifiers(self, name: str) -> set[str]:
        """The source identifiers of the records we hold from ``name`` that are not deleted."""

    def tombstone(self, name: str, identifiers: set[str]) -> int:
        """Delete (as tombstones) the records of ``name`` with these source identifiers; how many."""

    def set_aside(self, name: str) -> list[str]:
        """Identifiers of records earlier runs could not read, to be read again."""

    def store_record(self, name: str, record: Record, now: datetime) -> Written:
        """Store one record read again; what it did (its ``set_aside`` says if it failed again)."""

    def finish(self, name: str) -> None:
        """The run is complete: its first responseDate becomes the next incremental run's base."""

    def failed(self, name: str, message: str) -> None:
        """The run stopped; its position is kept so the next run goes on from it."""


def incremental_from(last_response_date: str | None, granularity: str) -> str | None:
    """``from`` for the next incremental run, at the source's granularity, with an overlap."""
    if not last_response_date:
        return None
    day = last_response_date[:10]
    if granularity == "YYYY-MM-DD":
        return day  # the whole day again: day granularity cannot say more
    try:
        last = datetime.strptime(last_response_date[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return day
    return (last - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")


MAX_DELETE = 10.0  # percent of a source's live records a reconciliation may tombstone unasked


class Runner:
    """Runs harvests of sources into one target.

    A full run reconciles: it tombstones what the source no longer lists.  It never deletes
    because of an error or an empty list, and it refuses to tombstone more than ``max_delete``
    percent of the source's live records unless ``allow_mass_delete``: a source that lost its
    database must not empty everyone's catalogue downstream.
    """

    def __init__(
        self,
        target: Target,
        client_factory: Callable[[str], Client] = Client,
        max_delete: float = MAX_DELETE,
        allow_mass_delete: bool = False,
    ) -> None:
        self.target = target
        self.client_factory = client_factory
        self.max_delete = max_delete
        self.allow_mass_delete = allow_mass_delete

    def run(self, name: str, full: bool = False, progress: Progress | None = None) -> RunReport:
        """Harvest one source: finish an interrupted run, else start a new incremental (or full) one."""
        started = time.monotonic()
        report = RunReport(name, problems=[])
        where = self.target.position(name)
        report.resumed = where.running and not full
        client = self.client_factory(where.base_url)
        try:
            if not report.resumed:
                self._begin(name, where, client, full)
            self._retry_set_aside(name, client, where.prefix, report)
            self._harvest(name, client, report, progress)
            if where.full if report.resumed else full:  # a resumed run is full if it began so
                self._reconcile(name, client, where, report)
            self.target.finish(name)
        except errors.HarvestError as exc:
            report.error = f"{type(exc).__name__}: {exc}"
            self.target.failed(name, report.error)
        finally:
            client.close()
            report.seconds = round(time.monotonic() - started, 3)
        return report

    def _begin(self, name: str, where: Position, client: Client, full: bool) -> None:
        identify = client.identify()
        granularity = str(identify.get("granularity", ""))
        window_from = None if full else incremental_from(where.last_response_date, granularity)
        # the next run's "from": a date the source gave before sending anything of this run
        response_date = str(identify.get("responseDate") or "") or None
        self.target.begin(name, granularity, window_from, full, response_date)

    def _harvest(self, name: str, client: Client, report: RunReport, progress: Progress | None) -> None:
        where = self.target.position(name)
        token = where.token
        for set_index in range(where.set_index, len(where.sets)):
            spec = where.sets[set_index]
            args = {"metadataPrefix": where.prefix}
            if where.window_from:
                args["from"] = where.window_from
            if spec:
                args["set"] = spec
            while True:
                try:
                    for page in client.pages("ListRecords", token=token, **args):
                        self._page(name, page, report)
                        if progress:
                            progress(report, page)
                    break
                except errors.BadResumptionToken:
                    if token is None:
                        raise
                    token = None  # expired while we were away: the same window again, from its start
            token = None
            self.target.set_done(name, set_index)

    def _page(self, name: str, page: Page, report: RunReport) -> None:
        """Write one page and the position after it in one transaction."""
        written = self.target.store_page(name, page, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
        set_aside = len(page.set_aside) + len(written.set_aside)
        report.pages += 1
        report.records += len(page.records)
        report.created += written.created
        report.updated += written.updated
        report.unchanged += written.unchanged
        report.deleted += written.deleted
        report.set_aside += set_aside
        assert report.problems is not None
        report.problems += [{"identifier": "", "reason": s.reason} for s in page.set_aside]
        report.problems += [{"identifier": i, "reason": r} for i, r in written.set_aside]

    def _retry_set_aside(self, name: str, client: Client, prefix: str, report: RunReport) -> None:
        """Read again, one by one, the records earlier runs set aside."""
        for identifier in self.target.set_aside(name):
            try:
                record = client.get_record(identifier, prefix)
            except errors.IdDoesNotExist:
                record = Record(identifier, "", deleted=True)  # gone from the source: a tombstone here too
            except (errors.TransportError, errors.TooLarge):
                raise  # the source itself fails: the run stops, its position kept
            except errors.HarvestError as exc:  # this record only
                self._unreadable(report, identifier, f"{type(exc).__name__}: {exc}")
                continue
            written = self.target.store_record(name, record, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
            if written.set_aside:
                self._unreadable(report, identifier, written.set_aside[0][1])
            else:
                report.retried += 1

    @staticmethod
    def _unreadable(report: RunReport, identifier: str, reason: str) -> None:
        report.set_aside += 1
        assert report.problems is not None
        report.problems.append({"identifier": identifier, "reason": f"still unreadable: {reason}"})

    def _reconcile(self, name: str, client: Client, where: Position, report: RunReport) -> None:
        """Tombstone what the source no longer has: it may not report deletions, or they left our sets."""
        alive: set[str] = set()
        for spec in where.sets:
            args = {"metadataPrefix": where.prefix, **({"set": spec} if spec else {})}
            alive.update(h.identifier for h in client.list_identifiers(**args) if not h.deleted)
        held = self.target.live_identifiers(name)
        gone = held - alive
        if not gone:
            return
        if not alive:  # noRecordsMatch, or an empty list: no evidence that anything was deleted
            report.refused = f"the source listed no identifiers; none of our {len(held)} records tombstoned"
            return
        share = 100.0 * len(gone) / len(held)
        if share > self.max_delete and not self.allow_mass_delete:
            report.refused = (
                f"reconciliation would tombstone {len(gone)} of {len(held)} records ({share:.0f}%), over the "
                f"{self.max_delete:g}% allowed; nothing tombstoned (--allow-mass-delete to do it)"
            )
            return
        report.deleted += self.target.tombstone(name, gone)
