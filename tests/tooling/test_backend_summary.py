"""``make test`` says which database backends it tested (the terminal-summary hook of tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from conftest import backend_summary

ROOT = Path(__file__).resolve().parents[2]


def test_db_url_matches_its_backend(db_url: str) -> None:
    assert db_url.startswith(("sqlite:///", "postgresql+psycopg://"))
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_summary_lines() -> None:
    only = backend_summary({"sqlite"}, None)
    assert only == [
        "database backends tested: sqlite only; PostgreSQL was not tested: to test PostgreSQL too, start a "
        "server at 127.0.0.1:5432 (database test) or set "
        "CRITMIN_TEST_DATABASE_URL=postgresql+psycopg://USER@HOST:PORT/DB"
    ]
    both = backend_summary({"postgresql", "sqlite"}, "postgresql+psycopg://u:secret@db:5433/t")
    assert both == [
        "database backends tested: sqlite, postgresql (PostgreSQL at postgresql+psycopg://u:***@db:5433/t)"
    ]
    assert backend_summary(set(), None) == ["database backends tested: none (no database test ran)"]


def test_a_run_without_postgresql_says_so_in_its_summary() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CRITMIN_REQUIRE_POSTGRES"}
    env["CRITMIN_TEST_DATABASE_URL"] = ""  # SQLite only, as on a machine without PostgreSQL
    node = "tests/tooling/test_backend_summary.py::test_db_url_matches_its_backend"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", node, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
    assert "database backends tested: sqlite only; PostgreSQL was not tested" in out.stdout
    assert "CRITMIN_TEST_DATABASE_URL=postgresql+psycopg://" in out.stdout
