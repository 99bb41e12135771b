"""Service commands: db upgrade, token create, audit verify (names the first broken entry), serve seeding."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

import critmin.cli.service_cmds  # noqa: F401  (registers the commands)
from critmin.api.seed import DEMO_ACCOUNTS, DEMO_RESERVE
from critmin.cli.app import app
from critmin.store import Store
from critmin.store.members import authenticate, create_member, find_member
from critmin.store.models import AuditEntry, Reserve
from critmin.store.reserves import state_of
from service.support import ADMIN

runner = CliRunner()


def test_db_upgrade_reports_head(db_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    from importlib import resources

    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(resources.files("critmin.store") / "migrations")).get_current_head()
    assert f"revision {head}" in result.output


def test_audit_verify_refuses_a_database_without_audit_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = runner.invoke(app, ["audit", "verify", "--database-url", url])
    assert result.exit_code == 2 and "has no audit log" in result.stderr
    store = Store(url)
    from sqlalchemy import inspect

    assert not inspect(store.engine).has_table("audit_log")  # verify wrote nothing
    store.dispose()


def test_token_create_issues_a_working_token(db_url: str) -> None:
    result = runner.invoke(
        app, ["token", "create", "Chile", "--role", "member", "--iso3", "chl", "--database-url", db_url]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    store = Store(db_url)
    with store.read() as s:
        who = authenticate(s, token)
    store.dispose()
    assert who is not None and (who.name, who.role, who.iso3) == ("Chile", "member", "CHL")
    token_id = token.split("_")[1]
    assert runner.invoke(app, ["token", "revoke", token_id, "--database-url", db_url]).exit_code == 0
    store = Store(db_url)
    with store.read() as s:
        assert authenticate(s, token) is None
    store.dispose()
    again = runner.invoke(app, ["token", "revoke", token_id, "--database-url", db_url])
    assert again.exit_code == 1 and "no active token" in again.stderr
    clash = runner.invoke(
        app, ["token", "create", "Chile", "--role", "participant", "--database-url", db_url]
    )
    assert clash.exit_code == 2 and "exists with role 'member'" in clash.output


def test_audit_verify_names_first_broken_entry(db_url: str) -> None:
    for name in ("A", "B", "C"):
        assert runner.invoke(app, ["token", "create", name, "--database-url", db_url]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify", "--database-url", db_url, "--format", "json"])
    assert ok.exit_code == 0
    assert json.loads(ok.stdout) == {
        "ok": True,
        "checked": 6,
        "rows_checked": 6,  # three accounts and their tokens
        "first_broken": None,
        "reason": "intact",
        "checkpoint": None,
    }
    store = Store(db_url)
    with store.write() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(payload='{"forged":true}'))
    store.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--database-url", db_url, "--format", "json"])
    assert broken.exit_code == 1
    assert "audit chain broken at entry 4" in broken.stderr
    assert json.loads(broken.stdout)["first_broken"] == 4


def test_serve_seeds_demo_alliance_and_prints_tokens_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    first = runner.invoke(app, ["serve", "--database-url", db_url, "--port", "8765"])
    assert first.exit_code == 0, first.output
    assert started == [{"host": "127.0.0.1", "port": 8765, "log_level": "info"}]
    assert first.output.count("cm_") == len(DEMO_ACCOUNTS)
    assert "shown once" in first.output
    second = runner.invoke(app, ["serve", "--database-url", db_url, "--port", "8765"])
    assert second.exit_code == 0 and "cm_" not in second.output
    store = Store(db_url)
    printed = re.findall(r"\bcm_\S+", first.output)
    with store.read() as s:
        # every printed token is whole and works (a table cut by a narrow terminal would break this)
        assert all(authenticate(s, token) is not None for token in printed)
    with store.read() as s:
        from critmin.store.audit import verify

        assert (
            verify(s).checked == 2 * len(DEMO_ACCOUNTS) + 2
        )  # accounts, tokens, the reserve and its opening
        reserve = s.execute(select(Reserve)).scalar_one()
        assert reserve.name == DEMO_RESERVE and state_of(reserve).opened
    store.dispose()


@pytest.mark.parametrize("code", ["XXX", "ZZZ", "EUR", "C1L", "CHLE", "OTH"])
def test_token_create_refuses_codes_that_are_not_countries(db_url: str, code: str) -> None:
    args = [
        "token",
        "create",
        f"Nowhere {code}",
        "--role",
        "member",
        "--iso3",
        code,
        "--database-url",
        db_url,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and f"iso3 {code.upper()!r}" in result.stderr
    store = Store(db_url)
    with store.read() as s:
        assert find_member(s, f"Nowhere {code}") is None  # nothing written
    store.dispose()


def test_every_iso_3166_country_code_is_accepted(db_url: str) -> None:
    import pycountry

    store = Store(db_url)
    store.upgrade()
    with store.write() as s:
        for c in pycountry.countries:
            create_member(s, ADMIN, f"member {c.alpha_3}", "member", c.alpha_3)
    store.dispose()
    result = runner.invoke(
        app, ["token", "create", "Kenya", "--role", "member", "--iso3", "ken", "--database-url", db_url]
    )
    assert result.exit_code == 0 and result.output.strip().startswith("cm_")
