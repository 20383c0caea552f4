"""The embedded search index: SQLite FTS5 in its own file under VAR_DIR, whatever holds the catalogue.

Every field is stored folded (``fold``) and queried folded, so the two Uzbek scripts and every
apostrophe meet; each term also matches as a prefix (there is no Uzbek stemmer: ``kutubxona``
finds ``kutubxonalar``).  Ranking is BM25 with field weights: title over author over subject over
the rest over the full text.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from repository.errors import KutubxonaError
from repository.search.documents import Document
from repository.search.fold import fold

COLUMNS = ("title", "author", "subject", "publisher", "other", "text")
WEIGHTS = (10.0, 5.0, 3.0, 2.0, 1.0, 0.5)  # bm25 weights, in COLUMNS order
_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(local_id UNINDEXED, {", ".join(COLUMNS)},
    tokenize = "unicode61 remove_diacritics 2", prefix = '2 3 4');
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS pending (record_id INTEGER PRIMARY KEY);
"""
_TERM = re.compile(r'(?:(\w+):)?("[^"]*"|[^\s"]+)')


class QueryError(KutubxonaError):
    """A query the index cannot read; the message says why."""


@dataclass(frozen=True)
class Hit:
    """A record that matched, best first."""

    local_id: str
    score: float


class EmbeddedIndex:
    """The index in one SQLite file; safe to share between the threads of a process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # derived data: rebuilt by reindex if lost
            self._conn.executescript(_SCHEMA)

    def update(self, docs: Iterable[Document]) -> None:
        """Put these documents in the index (a deleted one is taken out)."""
        docs = list(docs)
        rows = [(d.record_id, d.local_id, *(fold(d.fields.get(c, "")) for c in COLUMNS)) for d in docs
                if not d.deleted]  # fmt: skip
        marks = ", ".join("?" * (2 + len(COLUMNS)))
        with self._transaction() as conn:
            conn.executemany("DELETE FROM docs WHERE rowid = ?", [(d.record_id,) for d in docs])
            conn.executemany(f"INSERT INTO docs(rowid, local_id, {', '.join(COLUMNS)}) VALUES ({marks})", rows)

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """The records matching ``query`` (terms, ``field:term``, "phrases", ``prefix*``), best first."""
        expression = to_fts(query)
        weights = ", ".join(str(w) for w in WEIGHTS)
        sql = (f"SELECT local_id, bm25(docs, 0, {weights}) AS score FROM docs WHERE docs MATCH ? "
               "ORDER BY score LIMIT ?")  # fmt: skip
        with self._lock:
            try:
                rows = self._conn.execute(sql, (expression, limit)).fetchall()
            except sqlite3.OperationalError as exc:
                raise QueryError(f"cannot read the query {query!r}: {exc}") from None
        return [Hit(local_id, -score) for local_id, score in rows]

    def mark(self, record_ids: Iterable[int]) -> None:
        """Note records to index again: cheap, so that a catalogue write never waits for indexing."""
        self._write("INSERT OR IGNORE INTO pending(record_id) VALUES (?)", [(i,) for i in record_ids])

    def pending(self, limit: int) -> list[int]:
        """Up to ``limit`` records noted and not indexed yet."""
        with self._lock:
            rows = self._conn.execute("SELECT record_id FROM pending ORDER BY record_id LIMIT ?", (limit,))
            return [rid for (rid,) in rows.fetchall()]

    def unmark(self, record_ids: Iterable[int]) -> None:
        """Forget records once indexed."""
        self._write("DELETE FROM pending WHERE record_id = ?", [(i,) for i in record_ids])

    def _write(self, sql: str, rows: list[tuple]) -> None:
        """One statement for many rows, in one transaction (not one commit, and one sync, per row)."""
        with self._transaction() as conn:
            conn.executemany(sql, rows)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def count(self) -> int:
        """How many records the index holds."""
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    def get_meta(self, name: str) -> str | None:
        """A value kept with the index (where a reindex stands)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str | None) -> None:
        """Keep (or, with None, forget) a value with the index."""
        with self._lock:
            if value is None:
                self._conn.execute("DELETE FROM meta WHERE name = ?", (name,))
            else:
                self._conn.execute("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", (name, value))

    def clear(self) -> None:
        """Take every document out (and forget what was noted: everything is to be read again)."""
        with self._lock:
            self._conn.execute("DELETE FROM docs")
            self._conn.execute("DELETE FROM pending")

    def close(self) -> None:
        """Close the file."""
        self._conn.close()


def to_fts(query: str) -> str:
    """An FTS5 expression for a user's query: every term folded, matched as a prefix, all required.

    ``title:tarix`` searches one field; ``"ozbek tili"`` is a phrase; ``OR`` and ``NOT`` pass
    through; anything else FTS5 would read as syntax is quoted.
    """
    parts: list[str] = []
    for fieldname, term in _TERM.findall(query):
        if term in ("OR", "NOT", "AND") and not fieldname:
            parts.append(term)
            continue
        if fieldname and fieldname.lower() not in COLUMNS:
            raise QueryError(f"no field {fieldname!r} to search; fields: {', '.join(COLUMNS)}")
        phrase = term.startswith('"')
        words = fold(term.strip('"').rstrip("*")).split()
        words = [re.sub(r"[^\w]", "", w) for w in words]
        words = [w for w in words if w]
        if not words:
            continue
        text = '"' + " ".join(words) + '"' + ("" if phrase else "*")
        if not phrase and len(words) > 1:
            text = " ".join(f'"{w}"*' for w in words)
        parts.append(f"{fieldname.lower()} : ({text})" if fieldname else f"({text})")
    if not parts or all(p in ("OR", "NOT", "AND") for p in parts):
        raise QueryError(f"nothing to search for in {query!r}")
    out = [parts[0]]
    for previous, part in zip(parts, parts[1:], strict=False):
        if part not in ("OR", "NOT", "AND") and previous not in ("OR", "NOT", "AND"):
            out.append("AND")  # FTS5 joins groups only with a written operator
        out.append(part)
    return " ".join(out)
