"""Shared fixtures: database URLs for the service tests (SQLite always; PostgreSQL when configured).

``db_url`` is parametrized over the backends: ``sqlite`` (a file in tmp_path) and, when
``CRITMIN_TEST_DATABASE_URL`` is set, ``postgresql`` with a fresh schema per test (named after this
session, dropped at its end). With ``CRITMIN_REQUIRE_POSTGRES=1`` (CI) an unreachable PostgreSQL fails
the tests instead of leaving them out.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

_SESSION_TAG = secrets.token_hex(4)
_schemas: list[str] = []


def _pg_base_url() -> str | None:
    return os.environ.get("CRITMIN_TEST_DATABASE_URL") or None


def _backends() -> list[str]:
    wanted = _pg_base_url() is not None or os.environ.get("CRITMIN_REQUIRE_POSTGRES") == "1"
    return ["sqlite", "postgresql"] if wanted else ["sqlite"]


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
        return f"sqlite:///{tmp_path / 'critmin.sqlite3'}"
    base = _pg_base_url()
    if base is None:
        pytest.fail("CRITMIN_REQUIRE_POSTGRES=1 but CRITMIN_TEST_DATABASE_URL is not set")
    return _fresh_pg_schema(base)


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schemas() -> Iterator[None]:
    yield
    base = _pg_base_url()
    if base is None or not _schemas:
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as conn:
        for name in _schemas:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()
