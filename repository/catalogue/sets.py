"""OAI-PMH sets: creating them (with their ancestors), finding them, who is in them, and their exhibitions."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from repository.catalogue.models import ExhibitItem, OAISet, Record, RecordSet
from repository.errors import KutubxonaError


class SetError(KutubxonaError, ValueError):
    """A set spec that is not valid or a set that does not exist."""


def _check_spec(spec: str) -> None:
    # OAI-PMH 2.6: setSpec is a colon-separated list of unreserved-character parts
    if not re.fullmatch(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*", spec):
        raise SetError(f"invalid set spec {spec!r}: use letters, digits and -_.!~*'() parts joined by ':'")


def add_set(session: Session, spec: str, name: str, description: str | None = None) -> OAISet:
    """Create set ``spec`` (and any missing ancestor: ``a`` and ``a:b`` for ``a:b:c``)."""
    _check_spec(spec)
    parts = spec.split(":")
    created = None
    for depth in range(1, len(parts) + 1):
        current = ":".join(parts[:depth])
        existing = session.scalar(select(OAISet).where(OAISet.spec == current))
        if current == spec:
            if existing is not None:
                existing.name = name
                if description is not None:
                    existing.description = description
                created = existing
            else:
                created = OAISet(spec=spec, name=name, description=description)
                session.add(created)
        elif existing is None:
            session.add(OAISet(spec=current, name=current))
        session.flush()
    assert created is not None
    return created


def in_set(spec: str) -> ColumnElement[bool]:
    """Records in set ``spec`` or any set below it (OAI-PMH 2.7.2: membership is inherited upwards)."""
    prefix = spec + ":"
    return Record.id.in_(
        select(RecordSet.record_id)
        .join(OAISet, OAISet.id == RecordSet.set_id)
        .where(or_(OAISet.spec == spec, func.substr(OAISet.spec, 1, len(prefix)) == prefix))
    )


def set_ids(session: Session, specs: Iterable[str]) -> dict[str, int]:
    """The ids of the sets ``specs``; raise ``SetError`` naming any that do not exist."""
    specs = list(dict.fromkeys(specs))
    found = {spec: sid for spec, sid in session.execute(select(OAISet.spec, OAISet.id).where(OAISet.spec.in_(specs)))}
    missing = [s for s in specs if s not in found]
    if missing:
        raise SetError(f"no such set: {', '.join(missing)} (create it with `kutubxona sets add`)")
    return found


def set_counts(session: Session) -> dict[int, int]:
    """Number of live records directly in each set."""
    rows = session.execute(
        select(RecordSet.set_id, func.count())
        .join(Record, Record.id == RecordSet.record_id)
        .where(Record.deleted.is_(False))
        .group_by(RecordSet.set_id)
    )
    counts: dict[int, int] = defaultdict(int)
    for sid, n in rows:
        counts[sid] = n
    return counts


def set_specs(session: Session, record_id: int) -> list[str]:
    """The specs of the sets a record belongs to directly."""
    return list(
        session.scalars(
            select(OAISet.spec)
            .join(RecordSet, RecordSet.set_id == OAISet.id)
            .where(RecordSet.record_id == record_id)
            .order_by(OAISet.spec)
        )
    )


def set_exhibit(session: Session, the_set: OAISet, records: list[tuple[int, str | None]]) -> None:
    """Make ``records`` (record id, caption) the exhibition's items, in this order, replacing the old list."""
    session.execute(delete(ExhibitItem).where(ExhibitItem.set_id == the_set.id))
    session.flush()  # the old positions are gone before the new ones take them
    session.add_all(
        ExhibitItem(set_id=the_set.id, position=n, record_id=rid, caption=caption)
        for n, (rid, caption) in enumerate(records, start=1)
    )
    session.flush()
