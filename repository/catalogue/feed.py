"""The catalogue's change feed: after a transaction that changed records commits, its subscribers
hear which records changed and how.

Writes say what they changed with ``note(session, ids, action)``; nothing is sent until that
session's transaction commits, and a rollback forgets it, so a subscriber never hears of a change
that did not happen.  A subscriber that fails never rolls back or blocks the catalogue: the
failure is logged, and the changes it missed are kept in ``change_backlog`` and sent again, first,
on its next delivery (or by ``retry``).  Search is the first subscriber: the index follows the
catalogue, and the catalogue never waits for the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from repository.catalogue.models import ChangeBacklog, utcnow
from repository.db import Database

log = logging.getLogger(__name__)
_PENDING = "kutubxona.changes"


@dataclass(frozen=True)
class RecordChange:
    """One record changed: create, update, undelete, restore, sets, delete, rerender or text."""

    record_id: int
    action: str


Subscriber = Callable[[Sequence[RecordChange]], None]


def note(session: Session, record_ids: Iterable[int], action: str) -> None:
    """Tell the feed that ``record_ids`` changed in ``session``'s transaction (sent at its commit)."""
    pending = session.info.setdefault(_PENDING, [])
    pending.extend(RecordChange(rid, action) for rid in record_ids)


def pending(session: Session) -> list[RecordChange]:
    """The changes noted in ``session``'s transaction so far (sent when it commits)."""
    return session.info.get(_PENDING, [])


class ChangeFeed:
    """The subscribers of one database's catalogue, and delivery to them after each commit."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.subscribers: dict[str, Subscriber] = {}
        self._owing: set[str] = set()  # subscribers with changes in the backlog
        event.listen(db.sessionmaker, "after_commit", self._committed)
        event.listen(db.sessionmaker, "after_rollback", lambda session: session.info.pop(_PENDING, None))

    def subscribe(self, name: str, subscriber: Subscriber) -> None:
        """Send every committed change to ``subscriber`` from now on, after what it missed before.

        Whether it missed anything is read at its first delivery, not here: opening the services
        (a web worker booting) does not need the database.
        """
        self.subscribers[name] = subscriber
        self._owing.add(name)

    def _committed(self, session: Session) -> None:
        changes = session.info.pop(_PENDING, None)
        if changes and self.subscribers:
            self.publish(changes)

    def publish(self, changes: Sequence[RecordChange]) -> None:
        """Send ``changes`` to every subscriber, after what each missed; one that fails keeps them."""
        for name, subscriber in self.subscribers.items():
            owed, last = self._backlog(name) if name in self._owing else ([], 0)
            try:
                subscriber([*owed, *changes])
            except Exception:
                log.exception("change feed: subscriber %s failed; %d changes kept for a retry", name, len(changes))
                self._keep(name, changes)
                self._owing.add(name)
                continue
            if owed:
                self._forget(name, last)
            self._owing.discard(name)

    def retry(self) -> None:
        """Send each subscriber the changes it missed (as the next delivery would)."""
        for name in list(self._owing):
            self.publish_to(name)

    def publish_to(self, name: str) -> None:
        """Send subscriber ``name`` what it missed, if anything."""
        owed, last = self._backlog(name)
        if owed:
            try:
                self.subscribers[name](owed)
            except Exception:
                log.exception("change feed: subscriber %s failed again on %d changes", name, len(owed))
                return
            self._forget(name, last)
        self._owing.discard(name)

    def backlog(self, name: str) -> list[RecordChange]:
        """The changes subscriber ``name`` has missed, oldest first."""
        return self._backlog(name)[0]

    def _backlog(self, name: str) -> tuple[list[RecordChange], int]:
        with self.db.reading() as session:
            rows = session.execute(
                select(ChangeBacklog.id, ChangeBacklog.record_id, ChangeBacklog.action)
                .where(ChangeBacklog.subscriber == name)
                .order_by(ChangeBacklog.id)
            ).all()
        return [RecordChange(rid, action) for _, rid, action in rows], (rows[-1][0] if rows else 0)

    def _keep(self, name: str, changes: Sequence[RecordChange]) -> None:
        now = utcnow()
        rows = [{"subscriber": name, "record_id": c.record_id, "action": c.action, "noted": now} for c in changes]
        if not rows:
            return
        try:
            with self.db.engine.begin() as conn:
                conn.execute(insert(ChangeBacklog), rows)
        except Exception:  # the database itself failed: nothing more can be kept, and the catalogue is safe
            log.exception("change feed: could not keep %d changes for %s", len(rows), name)

    def _forget(self, name: str, last: int) -> None:
        """Drop the backlog delivered (up to row ``last``: another process may have added more since)."""
        with self.db.engine.begin() as conn:
            conn.execute(delete(ChangeBacklog).where(ChangeBacklog.subscriber == name, ChangeBacklog.id <= last))
