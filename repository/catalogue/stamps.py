"""Datestamps that incremental harvesters can trust: stamped at commit, behind a barrier lists pass.

OAI-PMH harvesters ask ``from=<responseDate of their previous harvest>``.  That finds every change
only if no change can become visible with a datestamp older than a list request that could not
yet see it.  A datestamp taken when a transaction writes a row, and committed seconds later,
breaks that: a list made in between neither sees the row nor, next time, asks from early enough.

So a record's datestamp is set as the last step of its transaction, in ``before_commit``, for
every record the transaction noted as changed (``feed.note``), while holding the *stamp lock*
until the commit is done.  A list request passes the same lock (``barrier``) before it reads and
takes its ``responseDate`` after it: every datestamp older than that responseDate is committed
and visible to the list, and every one stamped later is at least that responseDate, so the next
harvest's ``from`` includes it.  Long work needs no settle window and no special care: a rerender
of the whole catalogue in one transaction is stamped when it commits.

The lock is PostgreSQL's transaction advisory lock (writers exclusive, lists shared and released
at once), and on SQLite an ``flock`` on a file beside the database (processes on one machine,
the only ones that can share an SQLite file).  On PostgreSQL the time comes from the database
server, so that several application nodes agree on it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, text, update
from sqlalchemy.orm import Session

from repository.catalogue.feed import pending
from repository.catalogue.models import Record
from repository.db import Database

#: the actions that change what a record disseminates, and so its datestamp (OAI-PMH 2.5)
STAMPED = frozenset({"create", "update", "undelete", "restore", "sets", "delete", "rerender"})
_LOCK_KEY = 0x4B555442  # "KUTB": the advisory lock's number, the same in every process
_HELD = "kutubxona.stamp-lock"


class StampLock:
    """Writers stamp and commit under it; lists wait at it for every stamped change to be visible."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.postgres = db.engine.dialect.name == "postgresql"
        path = db.url.split("///", 1)[-1] if db.url.startswith("sqlite") else ""
        self.path = None if self.postgres or not path or path == ":memory:" else Path(path + "-stamp.lock")
        self._local = threading.Lock()  # an in-memory SQLite database lives in one process

    def now(self, session: Session) -> datetime:
        """The time to stamp with or to answer with: naive UTC, whole seconds."""
        if self.postgres:
            moment = session.scalar(text("SELECT clock_timestamp()"))  # not now(): that is the transaction's start
            return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def acquire(self, session: Session) -> None:
        """Take the lock for the rest of this session's transaction (released by ``release``)."""
        if self.postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})  # freed at commit
            return
        session.info[_HELD] = self._take(fcntl.LOCK_EX)

    def release(self, session: Session) -> None:
        """Let go of the lock after the commit (or rollback)."""
        held = session.info.pop(_HELD, None)
        if held is not None:
            self._give(held)

    def barrier(self, session: Session) -> datetime:
        """Wait until no transaction is between stamping and committing; the time a list may answer with."""
        if self.postgres:
            session.execute(text("SELECT pg_advisory_lock_shared(:key)"), {"key": _LOCK_KEY})
            session.execute(text("SELECT pg_advisory_unlock_shared(:key)"), {"key": _LOCK_KEY})
        else:
            self._give(self._take(fcntl.LOCK_SH))
        return self.now(session)

    def _take(self, mode: int) -> int | None:
        if self.path is None:
            self._local.acquire()
            return None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, mode)
        return fd

    def _give(self, fd: int | None) -> None:
        if fd is None:
            self._local.release()
            return
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def install_stamp_lock(db: Database) -> StampLock:
    """Stamp the datestamps of the records each transaction of ``db`` changed, at its commit."""
    lock = StampLock(db)

    def stamp(session: Session) -> None:
        ids = sorted({c.record_id for c in pending(session) if c.action in STAMPED})
        if not ids:
            return
        session.flush()  # the ORM's own changes first: nothing may overwrite the stamp after it
        lock.acquire(session)
        moment = lock.now(session)
        for start in range(0, len(ids), 500):
            session.execute(update(Record).where(Record.id.in_(ids[start : start + 500])).values(datestamp=moment))

    event.listen(db.sessionmaker, "before_commit", stamp)
    event.listen(db.sessionmaker, "after_commit", lock.release)
    event.listen(db.sessionmaker, "after_rollback", lock.release)
    return lock
