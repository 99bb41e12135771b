"""Engines and transactions: WAL SQLite with serialized writes (BEGIN IMMEDIATE), or PostgreSQL.

``Store.read()`` opens a read transaction; ``Store.write()`` a write transaction that commits on success
and rolls back on any error, so a request's writes land together or not at all. ``Store.write(durable=
False)`` commits without waiting for the disk (SQLite ``synchronous=NORMAL`` in WAL mode, PostgreSQL
``synchronous_commit=off``): a power cut (not a crash of the process) may lose the last such commits, never
corrupt or reorder anything (a later durable commit makes the earlier ones durable too). Only for writes
that are recreated on demand (the public exposure jobs, queued again on the next miss).

SQLite's write lock is taken by ``BEGIN IMMEDIATE``, retried every millisecond while another connection
(another process: the API queueing jobs, the worker storing results) holds it, for up to
:data:`BUSY_SECONDS`: SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms
between tries, so a waiter kept waiting tens of milliseconds after a write of a few milliseconds ended.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

BUSY_SECONDS = 60.0  # how long a SQLite connection waits for the write lock (or a busy database)
MIGRATION_LOCK = 7_310_002  # PostgreSQL advisory lock serializing migrations at start-up


def _sqlite_engine(url: str, begin: str, synchronous: str = "FULL") -> Engine:
    """A SQLite engine whose transactions start with ``begin`` (``BEGIN`` or ``BEGIN IMMEDIATE``)."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if begin == "BEGIN IMMEDIATE":
            _begin_immediate(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql(begin)

    return engine


def _begin_immediate(raw: Any) -> None:
    """``BEGIN IMMEDIATE`` on a DBAPI connection, retried every millisecond while the database is locked
    (see the module docstring); ``database is locked`` only after :data:`BUSY_SECONDS`."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.001)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")


class Store:
    """The database of one service instance (SQLite file or PostgreSQL URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(url, "BEGIN")
            self.lazy_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", synchronous="NORMAL")
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)
            self.read_engine = self.lazy_engine = self.engine
        self._write_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._lazy_sessions = sessionmaker(self.lazy_engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL (row locks with SELECT ... FOR UPDATE)."""
        return self.dialect == "postgresql"

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (idempotent; run on start-up)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("critmin.store") / "migrations"))
        with self.engine.connect() as connection:
            if not self.is_postgres:
                # tables are rebuilt by batch migrations: SQLite's foreign keys must be off (outside the
                # transaction) or dropping a parent would cascade; the migration checks them before commit
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with connection.begin():
                    # one migrator at a time: SQLite's BEGIN IMMEDIATE holds the write lock; PostgreSQL an
                    # advisory lock to the end of this transaction (others starting up wait, then see head)
                    if self.is_postgres:
                        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                    if not self.is_postgres:
                        bad = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if bad:
                            raise RuntimeError(f"migration left foreign keys pointing nowhere: {bad[:5]}")
            finally:
                if not self.is_postgres:
                    connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (closed at the end; loaded objects stay readable)."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read session whose statements all see one committed state, for checks that read several
        tables while the service writes (the audit chain, then the rows it covers): PostgreSQL
        ``REPEATABLE READ``, read only (under the default ``READ COMMITTED`` each statement sees the
        latest commits, so an entry and its row committed between two statements read as a break);
        SQLite's read transaction already is one snapshot in WAL mode."""
        with self._read_sessions() as session:
            if self.is_postgres:
                options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
                session.connection(execution_options=options)
            yield session

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Session]:
        """A write transaction: serialized on SQLite, committed on success, rolled back on error; with
        ``durable=False`` the commit does not wait for the disk (see the module docstring)."""
        sessions = self._write_sessions if durable else self._lazy_sessions
        with sessions() as session, session.begin():
            if not durable and self.is_postgres:
                session.execute(text("SET LOCAL synchronous_commit = off"))
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in {self.engine, self.read_engine, self.lazy_engine}:
            engine.dispose()
