"""Harvesting other OAI-PMH repositories into this one: sources, runs, and the catalogue side of a run.

``harvest.Runner`` drives a run; ``CatalogueTarget`` is where it keeps its position and stores its
pages.  A harvested record's local identifier is ``NAME:<source identifier>``, it belongs to the
set ``source:NAME`` and is matched only by that identifier; deletions become tombstones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from harvest.addresses import Policy
from harvest.client import Client
from harvest.errors import AddressRefused
from harvest.pages import Page
from harvest.pages import Record as Harvested
from harvest.runner import MAX_DELETE, Position, Progress, Runner, RunReport, Written
from harvest.sink import altered, local_id, prepare, provenance
from repository import catalogue
from repository.catalogue.models import HarvestProblem, HarvestSource, Record, Schedule, utcnow
from repository.errors import KutubxonaError, NotFound
from repository.metadata.formats import render

if TYPE_CHECKING:
    from repository.services import Services


class SourceError(KutubxonaError, ValueError):
    """A source that cannot be added as asked."""


def source_set(name: str) -> str:
    """The set every record harvested from ``name`` belongs to."""
    return f"source:{name}"


def get_source(session: Session, name: str) -> HarvestSource:
    """The source called ``name``; ``NotFound`` when there is none."""
    source = session.scalar(select(HarvestSource).where(HarvestSource.name == name))
    if source is None:
        raise NotFound(f"no harvest source {name!r}")
    return source


def address_policy(services: Services) -> Policy:
    """The addresses harvests may reach, as KUTUBXONA_HARVEST_ALLOW_PRIVATE says: public ones by default."""
    s = services.settings
    advice = "KUTUBXONA_HARVEST_ALLOW_PRIVATE=yes, or its network, allows harvesting it"
    return Policy(s.harvest_allow_private, s.harvest_private_networks, advice)


def add_source(services: Services, name: str, base_url: str, prefix: str, sets: list[str]) -> None:
    """Register a source and create its set; one on an address harvests may not reach is refused."""
    if not name or ":" in name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise SourceError(f"a source name is letters, digits, - and _ (at most 64), not {name!r}")
    if not base_url.startswith(("http://", "https://")):
        raise SourceError(f"the base URL must be http(s), not {base_url!r}")
    try:  # what the name resolves to now; each run's connections are checked again (it may change)
        address_policy(services).check_url(base_url)
    except AddressRefused as exc:
        raise SourceError(f"the base URL's host {exc}") from None
    with services.db.transaction() as session:
        if session.scalar(select(HarvestSource).where(HarvestSource.name == name)) is not None:
            raise SourceError(f"there is already a source {name!r}")
        session.add(HarvestSource(name=name, base_url=base_url, prefix=prefix, sets=json.dumps(sets)))
        catalogue.add_set(session, source_set(name), f"Harvested from {base_url}")


def schedule_name(source: str) -> str:
    """The name of source ``source``'s harvest schedule."""
    return f"harvest:{source}"


def remove_source(services: Services, name: str) -> None:
    """Forget source ``name`` and its schedule; the records harvested from it stay, in its set."""
    with services.db.transaction() as session:
        source = get_source(session, name)
        session.execute(delete(HarvestProblem).where(HarvestProblem.source_id == source.id))
        session.execute(delete(Schedule).where(Schedule.name == schedule_name(name)))
        session.delete(source)


def source_names(services: Services, name: str | None = None) -> list[str]:
    """``[name]`` when that source exists (else ``NotFound``), or every source's name."""
    with services.db.reading() as session:
        if name:
            return [get_source(session, name).name]
        return list(session.scalars(select(HarvestSource.name).order_by(HarvestSource.name)))


def run(
    services: Services,
    name: str,
    full: bool = False,
    progress: Progress | None = None,
    client_factory: Callable[..., Client] = Client,
    max_delete: float = MAX_DELETE,
    allow_mass_delete: bool = False,
) -> RunReport:
    """Harvest source ``name``: finish an interrupted run, else an incremental (or ``full``) one.

    A full run's reconciliation tombstones at most ``max_delete`` percent of the source's live
    records unless ``allow_mass_delete`` (see ``harvest.runner.Runner``).  Every connection is to
    an address ``address_policy`` allows, the source's and its redirects' alike.
    """
    policy = address_policy(services)
    runner = Runner(CatalogueTarget(services), lambda url: client_factory(url, addresses=policy), max_delete,
                    allow_mass_delete)  # fmt: skip
    return runner.run(name, full, progress)


class CatalogueTarget:
    """Keeps each source's position in ``harvest_source`` and stores harvested pages in the catalogue."""

    def __init__(self, services: Services) -> None:
        self.db = services.db
        self.site = services.base_url
        self._set_ids: dict[str, int] = {}  # source -> the id of its set, looked up once per run

    def position(self, name: str) -> Position:
        """Where the harvest of ``name`` stands."""
        with self.db.reading() as session:
            s = get_source(session, name)
            return Position(
                s.base_url, s.prefix, json.loads(s.sets) or [None], s.status == "running", s.run_full,
                s.run_set_index, s.run_token, s.run_from, s.last_response_date, s.granularity,
            )  # fmt: skip

    def begin(
        self, name: str, granularity: str, window_from: str | None, full: bool, response_date: str | None
    ) -> None:
        """Start a new run: a clean position from ``window_from``."""
        with self.db.transaction() as session:
            source = get_source(session, name)
            source.granularity = granularity
            source.run_from = window_from
            source.run_full = full
            source.run_set_index = 0
            source.run_token = None
            source.run_response_date = response_date
            source.run_started = utcnow()
            source.run_records = source.run_deleted = source.run_set_aside = source.run_pages = 0
            source.status = "running"
            source.message = ""

    def store_page(self, name: str, page: Page, now: datetime) -> Written:
        """One page's records, what could not be read of it, and the position after it, in one transaction."""
        with self.db.transaction() as session:
            source = get_source(session, name)
            written = self._store(session, source, page.records, now)
            for unreadable in page.set_aside:  # not even an identifier: kept to be looked at, not retried
                _keep_problem(session, source.id, "", unreadable.reason, unreadable.raw, now)
            source.run_token = page.token or None
            if not page.token:  # the list of this set is complete: a run going on from here takes the next set
                source.run_set_index += 1
            source.run_pages += 1
            source.run_records += len(page.records)
            source.run_deleted += written.deleted
            source.run_set_aside += len(page.set_aside) + len(written.set_aside)
        return written

    def store_record(self, name: str, record: Harvested, now: datetime) -> Written:
        """One record read again."""
        with self.db.transaction() as session:
            return self._store(session, get_source(session, name), [record], now)

    def _store(self, session: Session, source: HarvestSource, records: list[Harvested], now: datetime) -> Written:
        """Write records; keep those that cannot be read, forget the problems of those that now can."""
        name = source.name
        if name not in self._set_ids:
            self._set_ids[name] = catalogue.set_ids(session, [source_set(name)])[source_set(name)]
        written = _write(session, name, source.base_url, self._set_ids[name], records, self.site, now)
        failed = dict(written.set_aside)
        raw = {r.identifier: _raw(r) for r in records if r.identifier in failed}
        for identifier, reason in failed.items():
            _keep_problem(session, source.id, identifier, reason, raw.get(identifier), now)
        read = [r.identifier for r in records if r.identifier not in failed]
        for start in range(0, len(read), 500):
            session.execute(
                delete(HarvestProblem).where(
                    HarvestProblem.source_id == source.id, HarvestProblem.identifier.in_(read[start : start + 500])
                )
            )
        return written

    def set_aside(self, name: str) -> list[str]:
        """The identifiers of the records earlier runs could not read."""
        with self.db.reading() as session:
            source = get_source(session, name)
            stmt = select(HarvestProblem.identifier).where(
                HarvestProblem.source_id == source.id, HarvestProblem.identifier != ""
            )
            return list(dict.fromkeys(session.scalars(stmt.order_by(HarvestProblem.id))))

    def live_identifiers(self, name: str) -> set[str]:
        """Source identifiers of the live records harvested from ``name``."""
        with self.db.reading() as session:
            rows = session.scalars(
                select(Record.local_id).where(
                    Record.local_id.startswith(f"{name}:", autoescape=True), Record.deleted.is_(False)
                )
            )
            return {local.split(":", 1)[1] for local in rows}

    def tombstone(self, name: str, identifiers: set[str]) -> int:
        """Make tombstones of the records of ``name`` with these source identifiers."""
        wanted = sorted(local_id(name, i) for i in identifiers)
        deleted = 0
        with self.db.transaction() as session:
            for start in range(0, len(wanted), 500):
                rows = session.scalars(select(Record).where(Record.local_id.in_(wanted[start : start + 500])))
                for rec in rows.all():
                    deleted += catalogue.delete_record(session, rec, actor=f"harvest:{name}")
        return deleted

    def set_done(self, name: str, set_index: int) -> None:
        """Move on to the set after ``set_index``."""
        with self.db.transaction() as session:
            source = get_source(session, name)
            source.run_set_index, source.run_token = set_index + 1, None

    def finish(self, name: str) -> None:
        """Close the run: its first responseDate is the next incremental run's base."""
        with self.db.transaction() as session:
            source = get_source(session, name)
            if source.run_response_date:
                source.last_response_date = source.run_response_date
            source.last_finished = utcnow()
            source.status = "done"
            source.message = ""
            source.run_token = None

    def failed(self, name: str, message: str) -> None:
        """Keep the position and say why the run stopped."""
        with self.db.transaction() as session:
            get_source(session, name).message = message


def _keep_problem(session: Session, source_id: int, identifier: str, reason: str, raw: bytes | None,
                  now: datetime) -> None:  # fmt: skip
    """Keep (or count again) a record that could not be read."""
    # one row per record: by its identifier, or for an unreadable one without any, by its bytes
    same = [] if identifier else [HarvestProblem.raw == raw]
    row = session.scalar(
        select(HarvestProblem)
        .where(HarvestProblem.source_id == source_id, HarvestProblem.identifier == identifier, *same)
        .limit(1)
    )
    if row is None:
        session.add(HarvestProblem(source_id=source_id, identifier=identifier, reason=reason, raw=raw,
                                   first_seen=now, last_seen=now, attempts=1))  # fmt: skip
    else:
        row.reason, row.raw, row.last_seen, row.attempts = reason, raw, now, row.attempts + 1


def _raw(record: Harvested) -> bytes | None:
    return etree.tostring(record.metadata) if record.metadata is not None else None


def _write(
    session: Session, source: str, base_url: str, set_id: int, records: list[Harvested], site: str, now: datetime
) -> Written:
    """Apply harvested records; deletions become tombstones."""
    out = Written()
    ids = {local_id(source, r.identifier): r for r in records}
    found = catalogue.ids_of(session, ids)
    states = catalogue.load_states(session, found.values())
    changes: list[catalogue.Change] = []
    seen: set[str] = set()
    for record in records:
        local = local_id(source, record.identifier)
        if local in seen:
            continue  # a source that repeats a record in one page: the first one stands
        seen.add(local)
        if len(local) > 255:
            out.set_aside.append((record.identifier, "identifier longer than 255 characters"))
            continue
        state = states.get(found.get(local, -1))
        if record.deleted:
            if state is not None and not state.deleted:
                catalogue.delete_record(session, session.get(Record, state.id), actor=f"harvest:{source}")
                out.deleted += 1
            continue
        try:
            prepared = prepare(record)
        except ValueError as exc:
            out.set_aside.append((record.identifier, str(exc)))
            continue
        prepared.keys = []  # matched by the source identifier only
        if state is not None and state.content_hash == prepared.content_hash and not state.deleted:
            if set_id not in state.set_ids:
                changes.append(catalogue.Change("sets", local, None, state, {set_id}, actor=f"harvest:{source}"))
            out.unchanged += 1
            continue
        about = provenance(record, base_url, now, altered(record, prepared, render(prepared, local, site)))
        action = "create" if state is None else ("undelete" if state.deleted else "update")
        changes.append(catalogue.Change(action, local, prepared, state, {set_id}, actor=f"harvest:{source}",
                                        about=about))  # fmt: skip
        if state is None:
            out.created += 1
        else:
            out.updated += 1
    session.flush()
    catalogue.apply(session, changes, site, now)
    return out
