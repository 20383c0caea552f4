"""Database frame: the declarative base, one engine per app, sessions, and the migrations hook."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import LargeBinary, MetaData, Table, create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS = Path(__file__).parent / "migrations"
WRITES = "kutubxona_writes"  # execution option of a transaction that will write (BEGIN IMMEDIATE on SQLite)
# seconds PostgreSQL may take to accept a connection (libpq waits for ever by default), unless the URL
# says otherwise (?connect_timeout=N): a server that accepts and never answers would otherwise hold a
# request, a probe or a command's exit for good
CONNECT_TIMEOUT = 10


class Base(DeclarativeBase):
    """Base of every model; the naming convention keeps Alembic's constraint names stable."""

    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # the driver opens no transaction: "begin" below does
            cur = dbapi_conn.cursor()
            # 16 KB pages for a new database (an existing one keeps its own): a record's row and
            # payloads are 1 to 3 KB each, and with 4 KB pages the B-trees split and rebalance so
            # often that an import spends 15% more CPU in its own process (bench/import.py)
            cur.execute("PRAGMA page_size=16384")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # checkpoint the WAL into the database every 4,096 pages (64 MB) instead of 1,000: a
            # bulk import then copies each index page once per checkpoint, not once per chunk
            cur.execute("PRAGMA wal_autocheckpoint=4096")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # a write transaction takes the write lock when it begins: one that read first and
            # wrote later could find another writer's commit in between and fail at once with
            # "database is locked" (SQLITE_BUSY_SNAPSHOT), where waiting (busy timeout) would do
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITES) else "BEGIN")

        return engine
    if url.startswith("postgresql+psycopg"):
        # psycopg prepares a statement after five runs, and PostgreSQL then plans it once for any
        # values: the key lookups' "value IN (...)" became sequential scans. Plan every query afresh.
        args: dict[str, Any] = {"prepare_threshold": None}
        if "connect_timeout" not in make_url(url).query:
            args["connect_timeout"] = CONNECT_TIMEOUT
        return create_engine(url, pool_pre_ping=True, connect_args=args)
    return create_engine(url, pool_pre_ping=True)


class Database:
    """The engine and session factory of one app or command.

    Call sites say what they do: ``with db.transaction() as s:`` writes and commits (or rolls
    back on any error); ``with db.reading() as s:`` reads and never commits.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessionmaker() as session:
            try:
                session.connection(execution_options={WRITES: True})  # begins the transaction
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading: it is closed, never committed, when the block ends.

        Closing ends its transaction without expiring what it loaded, so rows read in the block
        stay usable after it.
        """
        with self.sessionmaker() as session:
            yield session

    def alembic_config(self) -> Any:
        """The Alembic configuration pointing at our migrations and this database."""
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def pending_migrations(self) -> bool:
        """True when the database is behind the newest migration."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        return current != head

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision``."""
        from alembic import command

        command.upgrade(self.alembic_config(), revision)

    def downgrade(self, revision: str) -> None:
        """Revert migrations down to ``revision`` (``base`` empties the database)."""
        from alembic import command

        command.downgrade(self.alembic_config(), revision)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (mappings with the same keys) into ``table`` straight to the driver.

    One executemany on SQLite, one COPY on PostgreSQL.  SQLAlchemy's executemany prepares each
    row's parameters in Python, and on SQLite that cost twice what the inserts themselves do
    (bench/import.py).  Here each column's bind processor (a date's text form on SQLite, say) is
    applied to its values and nothing else is done per row.  Column defaults are not applied: every
    row gives every column it needs.
    """
    if not rows:
        return
    names = tuple(rows[0])
    sql, processors = _insert_statement(conn.dialect, table, names)
    columns = [[row[name] for row in rows] for name in names]
    for i, name in enumerate(names):
        process, memo = processors.get(name, (None, False))
        if process is None:
            continue
        if memo:  # a chunk's rows share a few dates and flags: process each distinct value once
            done = {v: process(v) for v in set(columns[i]) if v is not None}
            columns[i] = [None if v is None else done[v] for v in columns[i]]
        else:
            columns[i] = [None if v is None else process(v) for v in columns[i]]
    values = zip(*columns, strict=True)
    if conn.dialect.driver == "psycopg":  # in this transaction
        with conn.connection.driver_connection.cursor().copy(sql) as copy:
            for row in values:
                copy.write_row(row)
        return
    params = list(values) if conn.dialect.positional else [dict(zip(names, v, strict=True)) for v in values]
    conn.exec_driver_sql(sql, params)


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%({})s", "named": ":{}"}
Processors = dict[str, tuple[Callable[[Any], Any], bool]]  # column -> (processor, memoise)
_STATEMENTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, Processors]] = {}


def _insert_statement(dialect: Any, table: Table, names: tuple[str, ...]) -> tuple[str, Processors]:
    """The bulk statement for columns ``names`` and their bind processors.

    PostgreSQL (psycopg) gets one COPY instead of an INSERT per row; other drivers an INSERT in
    their parameter style, for executemany.
    """
    key = (dialect.name, table.name, names)
    if key not in _STATEMENTS:
        quote = dialect.identifier_preparer.quote
        into = f"{quote(table.name)} ({', '.join(quote(n) for n in names)})"
        if dialect.driver == "psycopg":
            sql = f"COPY {into} FROM STDIN"
        else:
            placeholder = _PLACEHOLDERS[dialect.paramstyle]
            sql = f"INSERT INTO {into} VALUES ({', '.join(placeholder.format(n) for n in names)})"
        processors = {}
        for name in names:
            type_ = table.c[name].type
            process = type_.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = (process, not isinstance(type_, LargeBinary))  # memoise all but payloads
        _STATEMENTS[key] = (sql, processors)
    return _STATEMENTS[key]


def select_in(
    conn: Connection, table: Table, columns: Sequence[str], column: str, values: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE column IN values`` straight to the driver, 500 values at a time.

    For the importer's bulk lookups of plain text and integer columns: SQLAlchemy renders an
    expanding IN list parameter by parameter, at about the cost of the query itself on SQLite.
    """
    quote = conn.dialect.identifier_preparer.quote
    head = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} WHERE {quote(column)}"
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), 500):
        part = list(values[start : start + 500])
        if conn.dialect.driver == "psycopg":  # one array parameter: nothing for the driver to parse per value
            rows += conn.exec_driver_sql(f"{head} = ANY(%s)", (part,)).all()
        else:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            rows += conn.exec_driver_sql(f"{head} IN ({', '.join([mark] * len(part))})", tuple(part)).all()
    return rows
