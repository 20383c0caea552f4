"""Writing the catalogue: create, update, undelete, delete and restore records, in bulk or one by one.

Every change bumps the record's datestamp (OAI-PMH 2.5: the datestamp is the time of the last
change of what is disseminated).  Every change of content or deletion first copies the record's
current state into ``record_version``, so nothing a cataloguer imported is overwritten without a
trace; the record row itself is always the newest version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from repository.catalogue import feed
from repository.catalogue.models import (
    Record,
    RecordFile,
    RecordFormat,
    RecordKey,
    RecordLink,
    RecordSet,
    RecordVersion,
    utcnow,
)
from repository.catalogue.queries import versions
from repository.db import insert_many, select_in
from repository.metadata.description import host_links
from repository.metadata.formats import FileLink, Payloads, Prepared, payload, prepare_source, render


@dataclass
class State:
    """What we hold of a record, enough to decide what an incoming copy changes."""

    id: int
    local_id: str
    flavour: str
    content_hash: str
    deleted: bool
    version: int
    set_ids: set[int] = field(default_factory=set)
    ctl: str | None = None  # the "003|001" control-number key


@dataclass
class Change:
    """One change to apply: a creation (``state`` None) or a change of an existing record."""

    action: str  # create, update, undelete, restore, sets
    local_id: str
    prepared: Prepared | None = None  # new content; None keeps the content
    state: State | None = None
    add_sets: set[int] = field(default_factory=set)
    batch_id: int | None = None
    actor: str = ""
    about: bytes | None = None  # about containers disseminated with the new content


# the tables the bulk lookups read straight through the driver (``select_in``)
_RECORDS, _KEYS, _SETS = Record.__table__, RecordKey.__table__, RecordSet.__table__


_IMPORT_LOCK = 0x4B555449  # "KUTI": PostgreSQL advisory lock of the catalogue's bulk writers


def serialise_writes(session: Session) -> bool:
    """Let one bulk writer (import chunk) at a time look up and write; True when it had to wait.

    Two imports of overlapping files would otherwise both find a record missing and both create
    it.  SQLite writers are one at a time already (a write transaction begins IMMEDIATE).
    """
    if session.bind.dialect.name != "postgresql":
        return False
    if session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK}):
        return False
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})
    return True


def lookup_keys(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Map each match key to the (oldest) record holding it."""
    wanted = set(keys)
    found: dict[tuple[str, str], int] = {}
    values = sorted({v for _, v in wanted})
    rows = select_in(session.connection(), _KEYS, ("kind", "value", "record_id"), "value", values)
    for kind, value, record_id in rows:
        key = (kind, value)
        if key in wanted and record_id < found.get(key, record_id + 1):
            found[key] = record_id
    return found


def load_states(session: Session, ids: Iterable[int]) -> dict[int, State]:
    """The state of each record in ``ids``."""
    ids = sorted(set(ids))
    conn = session.connection()
    states: dict[int, State] = {}
    columns = ("id", "local_id", "flavour", "content_hash", "deleted", "version")
    for rid, local_id, flavour, content_hash, deleted, version in select_in(conn, _RECORDS, columns, "id", ids):
        states[rid] = State(rid, local_id, flavour, content_hash, bool(deleted), version)
    for rid, sid in select_in(conn, _SETS, ("record_id", "set_id"), "record_id", ids):
        states[rid].set_ids.add(sid)
    for rid, kind, value in select_in(conn, _KEYS, ("record_id", "kind", "value"), "record_id", ids):
        if kind == "ctl":
            states[rid].ctl = value
    return states


def ids_of(session: Session, local_ids: Iterable[str]) -> dict[str, int]:
    """The record id of each of ``local_ids`` that some record has."""
    return dict(select_in(session.connection(), _RECORDS, ("local_id", "id"), "local_id", list(local_ids)))


def taken_local_ids(session: Session, candidates: Iterable[str]) -> set[str]:
    """Those of ``candidates`` that some record already uses."""
    return set(ids_of(session, set(candidates)))


def apply(session: Session, changes: Sequence[Change], base_url: str, now: datetime | None = None) -> list[int]:
    """Write ``changes`` in a few bulk statements; return the record id of each change, in order."""
    now = now or utcnow()
    conn = session.connection()
    ids: list[int | None] = [c.state.id if c.state else None for c in changes]
    creates = [i for i, c in enumerate(changes) if c.state is None]
    if creates:
        rows = [_record_row(changes[i], now, 1) for i in creates]
        for row in rows:
            row["created"] = now
        # one executemany, then the ids by local_id (unique): RETURNING with a guaranteed order
        # degrades to one statement per row on SQLite
        insert_many(conn, Record.__table__, rows)
        by_local = ids_of(session, [changes[i].local_id for i in creates])
        for i in creates:
            ids[i] = by_local[changes[i].local_id]
    rewritten = [i for i, c in enumerate(changes) if c.prepared is not None]
    archive([ids[i] for i in rewritten if changes[i].state is not None], session)
    updates = []
    for i, c in enumerate(changes):
        if c.state is None:
            continue
        if c.prepared is None:  # set membership only: the content and its version stay
            updates.append({"b_id": ids[i], "datestamp": now, "deleted": False})
        else:
            updates.append({"b_id": ids[i], **_record_row(c, now, c.state.version + 1)})
    for keys_of_row, rows in _group_by_keys(updates):
        table = Record.__table__
        stmt = table.update().where(table.c.id == bindparam("b_id")).values({k: bindparam(k) for k in keys_of_row})
        conn.execute(stmt, rows)
    old = [ids[i] for i in rewritten if changes[i].state is not None]
    for start in range(0, len(old), 500):
        part = old[start : start + 500]
        conn.execute(delete(RecordFormat).where(RecordFormat.record_id.in_(part)))
        conn.execute(delete(RecordKey).where(RecordKey.record_id.in_(part)))
        conn.execute(delete(RecordLink).where(RecordLink.record_id.in_(part)))
    formats, keys, hosts = [], [], []
    links = open_files(session, old)
    for i in rewritten:
        c, rid = changes[i], ids[i]
        for prefix, xml in render(c.prepared, c.local_id, base_url, links.get(rid, ())).items():
            formats.append({"record_id": rid, "prefix": prefix, "xml": xml})
        keys.extend({"kind": k, "value": v, "record_id": rid} for k, v in c.prepared.keys)
        hosts.extend(
            {"record_id": rid, "position": n, "kind": k, "value": v, "title": link.title, "part": link.part}
            for n, link in enumerate(host_links(c.prepared))
            for k, v in link.keys
        )
    memberships = [
        {"record_id": ids[i], "set_id": sid}
        for i, c in enumerate(changes)
        for sid in sorted(c.add_sets - (c.state.set_ids if c.state else set()))
    ]
    for model, rows in ((RecordFormat, formats), (RecordKey, keys), (RecordLink, hosts), (RecordSet, memberships)):
        insert_many(conn, model.__table__, rows)
    done = [rid for rid in ids if rid is not None]
    for action in dict.fromkeys(c.action for c in changes):
        feed.note(session, (ids[i] for i, c in enumerate(changes) if c.action == action), action)
    _note_parts(session, [(row["kind"], row["value"]) for row in keys], set(done))
    return done


def _note_parts(session: Session, keys: Sequence[tuple[str, str]], written: set[int]) -> None:
    """Tell the feed of the articles and parts whose host now carries (or no longer carries) these keys."""
    if not keys:
        return
    wanted = set(keys)
    rows = select_in(session.connection(), RecordLink.__table__, ("record_id", "kind", "value"), "value",
                     sorted({v for _, v in wanted}))  # fmt: skip
    parts = {rid for rid, kind, value in rows if (kind, value) in wanted} - written
    if parts:
        feed.note(session, sorted(parts), "link")


def open_files(session: Session, record_ids: Sequence[int]) -> dict[int, list[FileLink]]:
    """The open files of each record, as its disseminated metadata links to them."""
    out: dict[int, list[FileLink]] = defaultdict(list)
    for start in range(0, len(record_ids), 500):
        rows = session.execute(
            select(RecordFile.record_id, RecordFile.name, RecordFile.mime)
            .where(RecordFile.record_id.in_(record_ids[start : start + 500]), RecordFile.access == "open")
            .order_by(RecordFile.id)
        )
        for rid, name, mime in rows:
            out[rid].append(FileLink(name, mime))
    return out


def _group_by_keys(rows: list[dict[str, object]]) -> list[tuple[tuple[str, ...], list[dict[str, object]]]]:
    groups: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        groups[tuple(k for k in row if k != "b_id")].append(row)
    return list(groups.items())


def archive(record_ids: Sequence[int], session: Session) -> None:
    """Copy the current state of each record into ``record_version`` before it changes."""
    for start in range(0, len(record_ids), 500):
        part = record_ids[start : start + 500]
        columns = ("record_id", "number", "action", "flavour", "source", "batch_id", "actor", "created")
        current = select(
            Record.id, Record.version, Record.action, Record.flavour, Record.source, Record.batch_id,
            Record.actor, Record.changed,
        ).where(Record.id.in_(part))  # fmt: skip
        session.execute(insert(RecordVersion).from_select(columns, current))


def _record_row(c: Change, now: datetime, version: int) -> dict[str, object]:
    p = c.prepared
    return {
        "local_id": c.local_id,
        "flavour": p.flavour,
        "source": p.source,
        "content_hash": p.content_hash,
        "title": p.title,
        "author": p.author,
        "year": p.year,
        "kind": p.kind,
        "language": p.language,
        "datestamp": now,
        "deleted": False,
        "version": version,
        "action": c.action,
        "actor": c.actor,
        "changed": now,
        "batch_id": c.batch_id,
        "about": c.about,
    }


def _disseminated(payloads: Payloads, source: str) -> dict[str, bytes]:
    return {prefix: payload(xml, source) for prefix, xml in payloads.items()}


def delete_record(session: Session, record: Record, actor: str = "") -> bool:
    """Make ``record`` a tombstone (kept forever, with its sets); False if it already was one."""
    if record.deleted:
        return False
    now = utcnow()
    archive([record.id], session)
    record.deleted = True
    record.datestamp = record.changed = now
    record.version += 1
    record.action = "delete"
    record.actor = actor
    record.batch_id = None
    feed.note(session, [record.id], "delete")
    keys = session.execute(select(RecordKey.kind, RecordKey.value).where(RecordKey.record_id == record.id))
    _note_parts(session, [tuple(k) for k in keys], {record.id})
    return True


def restore_version(session: Session, record: Record, number: int, base_url: str, actor: str = "") -> bool:
    """Bring version ``number`` back as a new version; False when there is no such version."""
    version = next((v for v in versions(session, record) if v.number == number), None)
    if version is None:
        return False
    state = load_states(session, [record.id])[record.id]
    prepared = prepare_source(version.flavour, version.source)
    apply(session, [Change("restore", record.local_id, prepared, state, actor=actor)], base_url)
    session.expire(record)
    return True


# --------------------------------------------------------------------------------- re-rendering


def rerender(
    session: Session, base_url: str, only: Sequence[int] | None = None, touch: bool = False, batch: int = 500
) -> tuple[int, int]:
    """Render records' formats again (after a crosswalk change, a new base URL, a new file).

    Only a record whose disseminated bytes differ gets the new bytes and a new datestamp (OAI-PMH
    2.5: the datestamp is that of the last change of what is disseminated), unless ``touch`` asks
    for a new datestamp anyway; a payload stored in an older way is stored anew with its datestamp
    kept.  ``only`` limits it to some records.  Returns (seen, changed).
    """
    seen = changed = 0
    last = 0
    while True:
        stmt = select(Record.id, Record.local_id, Record.flavour, Record.source).where(Record.id > last)
        if only is not None:
            stmt = stmt.where(Record.id.in_(list(only)))
        rows = session.execute(stmt.order_by(Record.id).limit(batch)).all()
        if not rows:
            return seen, changed
        ids = [r.id for r in rows]
        stored: dict[int, Payloads] = defaultdict(dict)
        for rid, prefix, xml in session.execute(
            select(RecordFormat.record_id, RecordFormat.prefix, RecordFormat.xml).where(RecordFormat.record_id.in_(ids))
        ):
            stored[rid][prefix] = xml
        links = open_files(session, ids)
        rewritten: list[int] = []
        formats: list[dict[str, object]] = []
        bumped: list[int] = []
        for r in rows:
            seen += 1
            fresh = render(prepare_source(r.flavour, r.source), r.local_id, base_url, links.get(r.id, ()))
            if fresh != stored[r.id]:  # new bytes, or the same bytes stored another way (see render)
                rewritten.append(r.id)
                formats += [{"record_id": r.id, "prefix": p, "xml": x} for p, x in fresh.items()]
            if touch or _disseminated(fresh, r.source) != _disseminated(stored[r.id], r.source):
                bumped.append(r.id)
        # the batch's changes in three statements, not three per record
        if rewritten:
            session.execute(delete(RecordFormat).where(RecordFormat.record_id.in_(rewritten)))
            insert_many(session.connection(), RecordFormat.__table__, formats)
        if bumped:
            session.execute(update(Record).where(Record.id.in_(bumped)).values(datestamp=utcnow()))
            feed.note(session, bumped, "rerender")
        changed += len(bumped)
        session.flush()
        last = ids[-1]
