"""The embedded search backend: SQLite FTS5 in its own file under VAR_DIR, whatever holds the catalogue.

Every field is written as its folded words (``fold.words``) and queried the same way, so the two
Uzbek scripts and every apostrophe meet.  Ranking is BM25 with the field weights of
``query.TEXT_FIELDS``.  Beside the full-text table, ``facts`` holds what sorting needs and each
document's facet values as one packed array of numbers, and ``tags`` one row per facet value of a
document, indexed by value, for filtering.  Facets are counted in numpy over the packed arrays of
the hits: a GROUP BY over one row per value of each hit cost several times more at 100,000 records.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from repository.search.backend import FACET_SIZES, Hit, Results, spelling_distance, window
from repository.search.documents import Indexed
from repository.search.query import TEXT_FIELDS, Filters, Query, QueryError, Term

COLUMNS = tuple(TEXT_FIELDS)
VERSION = 3  # of the file's layout (PRAGMA user_version); a file of another layout is rebuilt by reindex
_TABLES = ("docs", "vocab", "facts", "facet", "tag_names", "tags")
_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5({", ".join(COLUMNS)},
    tokenize = "unicode61 remove_diacritics 0", prefix = '2 3 4');
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(docs, 'row');
CREATE TABLE IF NOT EXISTS facts (rowid INTEGER PRIMARY KEY, year INTEGER, title_key TEXT NOT NULL,
    tags BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS facts_title ON facts(title_key, rowid);
CREATE INDEX IF NOT EXISTS facts_year ON facts(year DESC, rowid);
CREATE TABLE IF NOT EXISTS tag_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value TEXT NOT NULL,
    UNIQUE (name, value));
CREATE TABLE IF NOT EXISTS tags (tag INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (tag, doc)) WITHOUT ROWID;
"""
# FTS5 merges its segments eight at a time rather than four: at 100,000 records a rebuild took 5% less
# and indexing changes 10% less, with queries as fast (sixteen: a rebuild 14% less, changes 25% more)
_MERGING = "INSERT INTO docs(docs, rank) VALUES ('automerge', 8)"
TAG = np.dtype("<i4")  # a facet value's number, as packed in ``facts.tags``
_ORDER = {
    "relevance": "score DESC, rowid",
    "year": "f.year DESC, rowid",  # DESC puts the records without a year last
    "title": "f.title_key, rowid",
}
_LISTED = "(SELECT value FROM json_each(?))"  # the record ids of a JSON array
_BROWSE = {"relevance": "f.rowid DESC", "year": "f.year DESC, f.rowid", "title": "f.title_key, f.rowid"}


class EmbeddedIndex:
    """The index in one SQLite file: one writer at a time, readers on their own connections (WAL)."""

    name = "embedded"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._writer = self._connect()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._tag_ids: dict[tuple[str, str], int] = {}
        self._names: list[tuple[str, str]] = []  # (facet, value) by number, for counting
        self._readers: list[sqlite3.Connection] = []  # every thread's, to close
        self._pool: ThreadPoolExecutor | None = None
        with self._lock:
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.execute("PRAGMA synchronous=NORMAL")  # derived data: rebuilt by reindex if lost
            version = self._writer.execute("PRAGMA user_version").fetchone()[0]
            exists = self._writer.execute("SELECT 1 FROM sqlite_master WHERE name = 'docs'").fetchone()
            #: made by another version: emptied, and searches refuse until ``kutubxona reindex`` publishes
            self.outdated = bool(exists) and version != VERSION
            if self.outdated:
                for table in _TABLES:
                    self._writer.execute(f"DROP TABLE IF EXISTS {table}")
            self._writer.executescript(_SCHEMA)
            if not exists or self.outdated:
                self._writer.execute(_MERGING)
            if not exists:
                self._writer.execute(f"PRAGMA user_version = {VERSION}")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)

    def _reader(self) -> sqlite3.Connection:
        """This thread's connection for searching (searches do not wait for one another)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            conn.execute("PRAGMA temp_store=MEMORY")
            with self._lock:
                self._readers.append(conn)
        return conn

    def _threads(self) -> ThreadPoolExecutor:
        """The threads that count facets beside the searches, started on first use."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(4, thread_name_prefix="kutubxona-facets")
            return self._pool

    # ------------------------------------------------------------------------------- writing

    def update(self, docs: Iterable[Indexed], generation: str | None = None) -> None:
        """Put these documents in the index (a deleted one is taken out); there is one generation."""
        docs = list(docs)
        listed = json.dumps([d.record_id for d in docs])  # the ids for ``_LISTED`` (FTS5 looks each one up)
        live = [d for d in docs if not d.deleted]
        marks = ", ".join("?" * (1 + len(COLUMNS)))
        with self._transaction() as conn:
            conn.execute(f"DELETE FROM docs WHERE rowid IN {_LISTED}", (listed,))
            # a document's rows in ``tags`` are found by its packed values: ``tags`` has one key, (value,
            # document), which filtering needs; a second key, by document, cost 7% of the writing
            old = conn.execute(f"SELECT rowid, tags FROM facts WHERE rowid IN {_LISTED}", (listed,))
            conn.executemany(
                "DELETE FROM tags WHERE tag = ? AND doc = ?",
                [(int(t), doc) for doc, blob in old.fetchall() for t in np.frombuffer(blob, TAG)],
            )
            conn.execute(f"DELETE FROM facts WHERE rowid IN {_LISTED}", (listed,))
            conn.executemany(
                f"INSERT INTO docs(rowid, {', '.join(COLUMNS)}) VALUES ({marks})",
                [(d.record_id, *d.words) for d in live],
            )
            tagged = [(d, sorted({self._tag_id(conn, n, v) for n, values in d.facets for v in values}))
                      for d in live]  # fmt: skip
            conn.executemany(
                "INSERT INTO facts(rowid, year, title_key, tags) VALUES (?, ?, ?, ?)",
                [(d.record_id, d.year, d.title_key, np.asarray(tags, TAG).tobytes()) for d, tags in tagged],
            )
            # one statement, the pairs packed as numbers in JSON: binding half a million rows one by one
            # took a tenth of a rebuild's writing (a record id is a 32-bit integer in the catalogue)
            pairs = json.dumps([t << 32 | d.record_id for d, tags in tagged for t in tags])
            conn.execute(
                "INSERT INTO tags(tag, doc) SELECT value >> 32, value & 0xFFFFFFFF FROM json_each(?)", (pairs,)
            )

    def _tag_id(self, conn: sqlite3.Connection, name: str, value: str) -> int:
        """The number of a facet value, given one the first time it is seen."""
        key = (name, value)
        found = self._tag_ids.get(key)
        if found is None:
            conn.execute("INSERT OR IGNORE INTO tag_names(name, value) VALUES (?, ?)", key)
            found = conn.execute("SELECT id FROM tag_names WHERE name = ? AND value = ?", key).fetchone()[0]
            self._tag_ids[key] = found
        return found

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def new_generation(self) -> str:
        """Empty the index: the embedded backend rebuilds in place."""
        with self._transaction() as conn:
            # dropped and made again: FTS5 deletes row by row, reading each row's words back (1.2 s of a
            # 100,000-record reindex); facet value numbers are kept
            for table in ("docs", "facts", "tags"):
                conn.execute(f"DROP TABLE {table}")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute(_MERGING)
        return "main"

    def publish(self, generation: str) -> None:
        """Nothing to swap (the one generation is the one searched): the file is of this version now."""
        with self._lock:
            self._writer.execute(f"PRAGMA user_version = {VERSION}")
        self.outdated = False

    # ------------------------------------------------------------------------------- reading

    def search(self, query: Query, page: int, size: int, sort: str, facets: bool = True) -> Results:
        """One page of the records matching ``query``, with their number and the facets of all of them."""
        expression = to_fts(query)
        where, params = _filters(query.filters, matched=bool(expression))
        if not expression and not query.filters:
            return self._browse(page, size, sort, facets)
        # a score only orders by relevance; sorted by year or title a hit has none, as on Elasticsearch,
        # and the hits of a lookup (``udc:02``) come newest first, as browsing gives them
        ranked = sort == "relevance" and not query.is_lookup
        weights = ", ".join(str(w) for w in TEXT_FIELDS.values())
        score = f"-bm25(docs, {weights})" if ranked else "0.0"
        order = _ORDER[sort] if ranked or sort != "relevance" else "rowid DESC"
        if expression:
            params = [expression, *params]
            # facts only for a year range or a sort by year or title (CROSS JOIN: the match leads, one
            # lookup per hit; left to the planner, a join scanned facts whole)
            years = query.filters.year_from is not None or query.filters.year_to is not None
            facts = " CROSS JOIN facts f ON f.rowid = docs.rowid" if years or sort != "relevance" else ""
            page_of = f"SELECT docs.rowid AS rowid, {score} AS score FROM docs{facts} WHERE docs MATCH ? AND {where}"
            hits = f"docs CROSS JOIN facts f ON f.rowid = docs.rowid WHERE docs MATCH ? AND {where}"
        else:
            page_of = f"SELECT f.rowid AS rowid, 0.0 AS score FROM facts f WHERE {where}"
            hits = f"facts f WHERE {where}"
        # The hits are counted, with their facets, on a second connection while this one ranks them:
        # SQLite lets go of the GIL, so on two cores a query takes about the longer of the two rather
        # than their sum (37,000 hits: 9 ms of counting beside 25 of ranking).  A change committed
        # between the two reads may show in one of them only.  SQLite joins the packed facet values
        # into one value: handing Python a row per hit cost twice as much as the lookups.
        packed = "CAST(group_concat(f.tags, '') AS BLOB)" if facets else "NULL"
        counted = f"SELECT count(*), {packed} FROM {hits}"
        counting = self._threads().submit(self._count, counted, params, facets)
        try:
            # ORDER BY with LIMIT keeps only the best page-and-offset in SQLite's sorter
            rows = (
                self._reader()
                .execute(f"{page_of} ORDER BY {order} LIMIT ? OFFSET ?", (*params, *_limit_offset(page, size)))
                .fetchall()
            )
            total, counted_facets = counting.result()
        except sqlite3.OperationalError as exc:
            raise QueryError(f"cannot read the query {query.text!r}: {exc}", "unreadable", text=query.text) from None
        return Results(total, [Hit(rid, score) for rid, score in rows], counted_facets)

    def _count(self, counted: str, params: Sequence[object], facets: bool) -> tuple[int, dict]:
        """How many documents the statement ``counted`` finds, and (with ``facets``) their facets."""
        total, packed = self._reader().execute(counted, params).fetchone()
        return total, self._facets(packed) if facets and total else {}

    def _browse(self, page: int, size: int, sort: str, facets: bool) -> Results:
        """Every record (an empty query): from the indexes of ``facts`` and ``tags``, with no list of hits."""
        conn = self._reader()
        total = conn.execute("SELECT count(*) FROM facts").fetchone()[0]
        rows = conn.execute(
            f"SELECT f.rowid FROM facts f ORDER BY {_BROWSE[sort]} LIMIT ? OFFSET ?", _limit_offset(page, size)
        ).fetchall()
        counted = self._all_facets(conn) if facets and total else {}
        return Results(total, [Hit(rid, 0.0) for (rid,) in rows], counted)

    def _all_facets(self, conn: sqlite3.Connection) -> dict[str, list[tuple[str, int]]]:
        """The facets of every record, counted again only when the index has changed since (per connection)."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        cached = getattr(self._local, "all_facets", None)
        if cached is None or cached[0] != version:
            everything = conn.execute("SELECT CAST(group_concat(tags, '') AS BLOB) FROM facts").fetchone()[0]
            cached = self._local.all_facets = (version, self._facets(everything))
        return cached[1]

    def _facets(self, packed: bytes) -> dict[str, list[tuple[str, int]]]:
        """The most frequent values of each facet among documents whose packed values are joined in ``packed``."""
        counts = np.bincount(np.frombuffer(packed, TAG))
        names = self._tag_names(self._reader(), len(counts))
        counted: dict[str, list[tuple[str, int]]] = {}
        for tag in np.flatnonzero(counts):
            name, value = names[tag]
            counted.setdefault(name, []).append((value, int(counts[tag])))
        for name, found in counted.items():
            found.sort(key=lambda item: (-item[1], item[0]))
            del found[FACET_SIZES.get(name, 10) :]
        return counted

    def _tag_names(self, conn: sqlite3.Connection, needed: int) -> list[tuple[str, str]]:
        """(facet, value) by number, read again when a number beyond those known appears."""
        names = self._names
        if len(names) < needed:
            rows = conn.execute("SELECT id, name, value FROM tag_names").fetchall()
            names = [("", "")] * (max((i for i, _, _ in rows), default=0) + 1)
            for i, name, value in rows:
                names[i] = (name, value)
            self._names = names
        return names

    def suggest(self, words: list[str]) -> dict[str, str]:
        """For each word the index lacks, the closest one it holds (``spelling_distance``), most used first."""
        conn = self._reader()
        out: dict[str, str] = {}
        for word in dict.fromkeys(words):
            if len(word) < 3 or conn.execute("SELECT 1 FROM vocab WHERE term = ?", (word,)).fetchone():
                continue
            # candidates share the first letter (a misspelt first letter is rare) and a close length
            rows = conn.execute(
                "SELECT term, doc FROM vocab WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?",
                (word[0], word[0] + "\U0010ffff", len(word) - 2, len(word) + 2),
            )
            best = None
            for term, docs in rows:
                distance = spelling_distance(word, term)
                if distance is not None and (best is None or (distance, -docs) < best[0]):
                    best = ((distance, -docs), term)
            if best:
                out[word] = best[1]
        return out

    def known(self, words: list[tuple[str, bool]]) -> set[tuple[str, bool]]:
        """Which of these words the index holds (with ``True``: which begin a word it holds).

        Asked of FTS5 itself, the word first and then as a prefix, one row at most: fts5vocab counts
        every document of a term it passes (6 ms for a word of 6,000 documents at 20,000 records),
        FTS5 reads a word's first entry only (30-130 µs), and a prefix no word has costs as little.
        A prefix only a longer word has costs what searching it does (0.5-1.5 ms at 20,000 records).
        """
        conn = self._reader()
        found = set()
        for word, prefix in words:
            phrase = '"' + word.replace('"', "") + '"'
            matches = "SELECT 1 FROM docs WHERE docs MATCH ? LIMIT 1"
            if conn.execute(matches, (phrase,)).fetchone() or (
                prefix and conn.execute(matches, (phrase + "*",)).fetchone()
            ):
                found.add((word, prefix))
        return found

    def count(self) -> int:
        """How many records the index holds."""
        return self._reader().execute("SELECT count(*) FROM facts").fetchone()[0]

    def close(self) -> None:
        """Close the file: the writer, the facet threads and every thread's connection."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._writer.close()
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()


def _filters(filters: Filters, matched: bool) -> tuple[str, list[object]]:
    """SQL for a year range (over ``facts f``) and facet values (any value of a facet; every facet).

    The documents of a value are listed by ``tags``' key (value, document).  Beside a full-text
    match (``matched``) each hit is looked up in that key instead: listing a broad value's documents
    first (type=book, 74,000 of 100,000) cost more than the ranking.
    """
    clauses, params = ["1"], []
    if filters.year_from is not None:
        clauses.append("f.year >= ?")
        params.append(filters.year_from)
    if filters.year_to is not None:
        clauses.append("f.year <= ?")
        params.append(filters.year_to)
    for name, values in filters.values.items():
        chosen = f"SELECT id FROM tag_names WHERE name = ? AND value IN ({', '.join('?' * len(values))})"
        if matched:
            clauses.append(f"EXISTS (SELECT 1 FROM tags WHERE tag IN ({chosen}) AND doc = docs.rowid)")
        else:
            clauses.append(f"f.rowid IN (SELECT doc FROM tags WHERE tag IN ({chosen}))")
        params += [name, *values]
    return " AND ".join(clauses), params


def to_fts(query: Query) -> str | None:
    """The FTS5 expression of a query's terms (None when it has none: every record, filtered)."""
    if not query.groups:
        return None
    required = " AND ".join("(" + " OR ".join(_term(t) for t in group) + ")" for group in query.groups)
    if query.excluded:
        return f"({required}) NOT (" + " OR ".join(_term(t) for t in query.excluded) + ")"
    return required


def _term(term: Term) -> str:
    text = '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")
    return f"{term.field} : {text}" if term.field else text


def _limit_offset(page: int, size: int) -> tuple[int, int]:
    """The LIMIT and OFFSET of a page, cut at the window both backends serve."""
    start, count = window(page, size)
    return count, start
