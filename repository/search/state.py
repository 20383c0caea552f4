"""What this node remembers of its indexing: records to index again, and where a reindex stands.

Kept in a small SQLite file beside the index so that a catalogue write only notes an id here
(cheap) and never waits for the search engine, and so that the notes survive a restart.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (record_id INTEGER PRIMARY KEY, noted INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
"""


class IndexState:
    """Pending record ids and named values, in one file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)

    def mark(self, record_ids: Iterable[int]) -> None:
        """Note records to index again (a record noted while being indexed stays noted: see ``unmark``)."""
        noted = time.time_ns()
        self._many(
            "INSERT INTO pending(record_id, noted) VALUES (?, ?) "
            "ON CONFLICT(record_id) DO UPDATE SET noted = excluded.noted",
            [(i, noted) for i in record_ids],
        )

    def pending(self, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` records noted and not indexed yet, with when each was noted."""
        with self._lock:
            rows = self._conn.execute("SELECT record_id, noted FROM pending ORDER BY record_id LIMIT ?", (limit,))
            return rows.fetchall()

    def pending_count(self) -> int:
        """How many records are noted and not indexed yet (the index's backlog)."""
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM pending").fetchone()[0]

    def unmark(self, notes: Iterable[tuple[int, int]]) -> None:
        """Forget records once indexed, unless noted again since (``pending`` gave the notes)."""
        self._many("DELETE FROM pending WHERE record_id = ? AND noted = ?", list(notes))

    def forget_pending(self) -> None:
        """Forget every note (a reindex reads everything again)."""
        with self._lock:
            self._conn.execute("DELETE FROM pending")

    def get(self, name: str) -> str | None:
        """A value kept here (where a reindex stands)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def put(self, name: str, value: str | None) -> None:
        """Keep (or, with None, forget) a value."""
        with self._lock:
            if value is None:
                self._conn.execute("DELETE FROM meta WHERE name = ?", (name,))
            else:
                self._conn.execute("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", (name, value))

    def _many(self, sql: str, rows: list[tuple[int, int]]) -> None:
        """One statement for many rows in one transaction (one sync, not one per row)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(sql, rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the file."""
        self._conn.close()
