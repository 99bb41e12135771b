"""Shared fixtures: database URLs for the service tests (SQLite always; PostgreSQL when reachable).

``db_url`` is parametrized over the backends: ``sqlite`` (a file in tmp_path) and ``postgresql`` with a
fresh schema per test (named after this session, dropped at its end). PostgreSQL is
``CRITMIN_TEST_DATABASE_URL`` when set; when the variable is unset, the local server
(:data:`LOCAL_PG_URL`) is used if it answers; ``CRITMIN_TEST_DATABASE_URL=`` (empty) means SQLite only.
With ``CRITMIN_REQUIRE_POSTGRES=1`` (CI) an unreachable PostgreSQL fails the tests instead of leaving
them out. The terminal summary says which database backends were tested and how to enable PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import traceback
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

_SESSION_TAG = secrets.token_hex(4)
_schemas: list[str] = []
_tested: set[str] = set()
LOCAL_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENABLE_PG_HINT = (
    "to test PostgreSQL too, start a server at 127.0.0.1:5432 (database test) or set "
    "CRITMIN_TEST_DATABASE_URL=postgresql+psycopg://USER@HOST:PORT/DB"
)


def _local_pg_answers(url: str = LOCAL_PG_URL) -> bool:
    """Whether the local PostgreSQL accepts a connection (a port probe first, so absence costs ~nothing)."""
    import socket

    from sqlalchemy import create_engine, text

    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception:
        return False
    return True


def _resolve_pg_url() -> str | None:
    if "CRITMIN_TEST_DATABASE_URL" in os.environ:
        return os.environ["CRITMIN_TEST_DATABASE_URL"] or None
    return LOCAL_PG_URL if _local_pg_answers() else None


_PG_URL = _resolve_pg_url()


def _pg_base_url() -> str | None:
    return _PG_URL


def _backends() -> list[str]:
    wanted = _pg_base_url() is not None or os.environ.get("CRITMIN_REQUIRE_POSTGRES") == "1"
    return ["sqlite", "postgresql"] if wanted else ["sqlite"]


def backend_summary(tested: set[str], pg_url: str | None) -> list[str]:
    """The summary lines: backends the database tests ran on and, without PostgreSQL, how to add it."""
    if not tested:
        return ["database backends tested: none (no database test ran)"]
    names = [b for b in ("sqlite", "postgresql") if b in tested]
    line = "database backends tested: " + ", ".join(names)
    if "postgresql" in tested:
        return [f"{line} (PostgreSQL at {_redact(pg_url)})"]
    return [f"{line} only; PostgreSQL was not tested: {ENABLE_PG_HINT}"]


def _redact(url: str | None) -> str:
    from sqlalchemy.engine import make_url

    return "?" if url is None else make_url(url).render_as_string(hide_password=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in backend_summary(_tested, _pg_base_url()):
        terminalreporter.write_line(line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", _backends(), indirect=True)


def _fresh_pg_schema(base: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"critmin_t_{_SESSION_TAG}_{len(_schemas)}"
    engine = create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {base} cannot be reached or used: {exc}")
    finally:
        engine.dispose()
    _schemas.append(name)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={name}')}"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database on the backend named by the parameter."""
    if request.param == "sqlite":
        _tested.add("sqlite")
        return f"sqlite:///{tmp_path / 'critmin.sqlite3'}"
    base = _pg_base_url()
    if base is None:
        pytest.fail(
            f"CRITMIN_REQUIRE_POSTGRES=1 but no PostgreSQL answers at {LOCAL_PG_URL} "
            "and CRITMIN_TEST_DATABASE_URL is not set"
        )
    url = _fresh_pg_schema(base)
    _tested.add("postgresql")
    return url


_pg_opened: list[tuple[weakref.ref[Any], str]] = []  # every psycopg connection the tests' engines opened


@event.listens_for(Engine, "connect")
def _record_pg_connection(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("psycopg"):
        ours = [f for f in traceback.extract_stack()[:-1] if "site-packages" not in f.filename]
        _pg_opened.append((weakref.ref(dbapi_connection), "".join(traceback.format_list(ours[-6:]))))


@pytest.fixture(autouse=True)
def _no_pg_connection_left_open() -> Iterator[None]:
    """A PostgreSQL connection a test opened is closed by its end (``Store.dispose()``, ``engine.dispose()``):
    one left to the garbage collector warns "was deleted while still open" from psycopg, at any later
    moment (even at interpreter teardown, where no test owns it)."""
    first = len(_pg_opened)
    yield
    left = [where for ref, where in _pg_opened[first:] if (c := ref()) is not None and not c.closed]
    del _pg_opened[first:]
    if left:
        pytest.fail(f"{len(left)} PostgreSQL connection(s) left open, the first opened at:\n{left[0]}")


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schemas() -> Iterator[None]:
    yield
    base = _pg_base_url()
    if base is None or not _schemas:
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    for name in _schemas:  # one transaction per schema: dropping them all at once runs out of lock slots
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()
