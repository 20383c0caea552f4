"""Harvest runs: incremental, resumable after any crash, with deletions and reconciliation.

Each page's records and the source's position (window, set, resumption token, counts) are committed
in one transaction, so a run killed at any moment (kill -9 included) is finished by the next one:
it continues from the stored token, or, when that token has expired, restarts the same window from
its original ``from`` (sources need not send records in datestamp order; upserts make the repeat
harmless).  The next incremental run asks ``from`` the first responseDate of the last complete
run, at the source's granularity, minus a small overlap.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harvest import errors
from harvest.client import Client
from harvest.pages import Page
from harvest.sink import local_id, write
from repository import catalogue
from repository.catalogue.models import HarvestSource, Record, utcnow

OVERLAP = timedelta(seconds=60)
Progress = Callable[["RunReport", Page | None], None]


class SourceError(ValueError):
    """An unknown source, or one that cannot be added as asked."""


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
    error: str | None = None
    problems: list[dict[str, str]] | None = None

    def as_json(self) -> dict:
        """The ``--json`` summary of the run."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def source_set(name: str) -> str:
    """The set every record harvested from ``name`` belongs to."""
    return f"source:{name}"


def add_source(session: Session, name: str, base_url: str, prefix: str, sets: list[str]) -> HarvestSource:
    """Register a source and create its set."""
    if not name or ":" in name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise SourceError(f"a source name is letters, digits, - and _ (at most 64), not {name!r}")
    if session.scalar(select(HarvestSource).where(HarvestSource.name == name)) is not None:
        raise SourceError(f"there is already a source {name!r}")
    if not base_url.startswith(("http://", "https://")):
        raise SourceError(f"the base URL must be http(s), not {base_url!r}")
    source = HarvestSource(name=name, base_url=base_url, prefix=prefix, sets=json.dumps(sets))
    session.add(source)
    catalogue.add_set(session, source_set(name), f"Harvested from {base_url}")
    return source


def get_source(session: Session, name: str) -> HarvestSource:
    """The source called ``name``; raise ``SourceError`` when there is none."""
    source = session.scalar(select(HarvestSource).where(HarvestSource.name == name))
    if source is None:
        raise SourceError(f"no harvest source {name!r}")
    return source


def incremental_from(source: HarvestSource) -> str | None:
    """``from`` for the next incremental run, at the source's granularity, with an overlap."""
    if not source.last_response_date:
        return None
    day = source.last_response_date[:10]
    if source.granularity == "YYYY-MM-DD":
        return day  # the whole day again: day granularity cannot say more
    try:
        last = datetime.strptime(source.last_response_date[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return day
    return (last - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")


class Runner:
    """Runs harvests of the sources of one repository."""

    def __init__(self, services, client_factory: Callable[[str], Client] = Client) -> None:  # noqa: ANN001
        self.services = services
        self.client_factory = client_factory

    def run(self, name: str, full: bool = False, progress: Progress | None = None) -> RunReport:
        """Harvest one source: finish an interrupted run, else start a new incremental (or full) one."""
        started = time.monotonic()
        report = RunReport(name, problems=[])
        db = self.services.db
        with db.transaction() as session:
            source = get_source(session, name)
            base_url, prefix, sets = source.base_url, source.prefix, json.loads(source.sets) or [None]
            report.resumed = source.status == "running" and not full
            set_id = catalogue.set_ids(session, [source_set(name)])[source_set(name)]
        client = self.client_factory(base_url)
        try:
            if not report.resumed:
                self._begin(name, client, full)
            self._harvest(name, client, prefix, sets, set_id, report, progress)
            with db.reading() as session:
                is_full = get_source(session, name).run_full
            if is_full:
                self._reconcile(name, client, prefix, sets, report)
            self._finish(name, report)
        except errors.HarvestError as exc:
            report.error = f"{type(exc).__name__}: {exc}"
            with db.transaction() as session:
                source = get_source(session, name)
                source.message = report.error  # the position stays: the next run goes on from it
        finally:
            client.close()
            report.seconds = round(time.monotonic() - started, 3)
        return report

    def _begin(self, name: str, client: Client, full: bool) -> None:
        identify = client.identify()
        with self.services.db.transaction() as session:
            source = get_source(session, name)
            source.granularity = str(identify.get("granularity", ""))
            source.run_from = None if full else incremental_from(source)
            source.run_full = full
            source.run_set_index = 0
            source.run_token = None
            # the next run's "from": a date the source gave before sending anything of this run
            source.run_response_date = str(identify.get("responseDate") or "") or None
            source.run_started = utcnow()
            source.run_records = source.run_deleted = source.run_set_aside = source.run_pages = 0
            source.status = "running"
            source.message = ""

    def _harvest(
        self,
        name: str,
        client: Client,
        prefix: str,
        sets: list,
        set_id: int,
        report: RunReport,
        progress: Progress | None,
    ) -> None:
        db, site = self.services.db, self.services.base_url
        with db.reading() as session:
            source = get_source(session, name)
            index, token, window_from = source.run_set_index, source.run_token, source.run_from
        for set_index in range(index, len(sets)):
            spec = sets[set_index]
            args = {"metadataPrefix": prefix}
            if window_from:
                args["from"] = window_from
            if spec:
                args["set"] = spec
            while True:
                try:
                    for page in client.pages("ListRecords", token=token, **args):
                        self._page(name, page, set_id, site, report)
                        if progress:
                            progress(report, page)
                    break
                except errors.BadResumptionToken:
                    if token is None:
                        raise
                    token = None  # expired while we were away: the same window again, from its start
            token = None
            with db.transaction() as session:
                source = get_source(session, name)
                source.run_set_index, source.run_token = set_index + 1, None

    def _page(self, name: str, page: Page, set_id: int, site: str, report: RunReport) -> None:
        """Write one page and the position after it in one transaction."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        with self.services.db.transaction() as session:
            source = get_source(session, name)
            written = write(session, name, source.base_url, set_id, page.records, site, now)
            set_aside = len(page.set_aside) + len(written.set_aside)
            source.run_token = page.token or None
            source.run_pages += 1
            source.run_records += len(page.records)
            source.run_deleted += written.deleted
            source.run_set_aside += set_aside
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

    def _reconcile(self, name: str, client: Client, prefix: str, sets: list, report: RunReport) -> None:
        """Tombstone what the source no longer has: it may not report deletions, or they left our sets."""
        alive: set[str] = set()
        for spec in sets:
            args = {"metadataPrefix": prefix, **({"set": spec} if spec else {})}
            alive.update(h.identifier for h in client.list_identifiers(**args) if not h.deleted)
        ours = {local_id(name, i) for i in alive}
        with self.services.db.transaction() as session:
            rows = session.scalars(
                select(Record).where(Record.local_id.startswith(f"{name}:", autoescape=True), Record.deleted.is_(False))
            ).all()
            for rec in rows:
                if rec.local_id not in ours:
                    catalogue.delete_record(session, rec, actor=f"harvest:{name}")
                    report.deleted += 1

    def _finish(self, name: str, report: RunReport) -> None:
        with self.services.db.transaction() as session:
            source = get_source(session, name)
            if source.run_response_date:
                source.last_response_date = source.run_response_date
            source.last_finished = utcnow()
            source.status = "done"
            source.message = ""
            source.run_token = None
