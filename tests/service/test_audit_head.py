"""``GET /audit/head``: the chain's current head for the secretariat and the reserve operator (403 for the
other roles, 401 for the public), HMAC-signed with the server's key when it has one; the body is a
checkpoint that ``critmin audit verify`` accepts, and that catches a later tail truncation (each backend)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from critmin.api.routers.audit import AUDIT_KEY_ENV
from critmin.cli import app
from critmin.store.audit import GENESIS_HASH, canonical_json
from critmin.store.models import AuditEntry
from service.support import Service

API = "/api/v1"
HEAD = f"{API}/audit/head"
runner = CliRunner()


def _write(service: Service) -> None:
    """Two audited writes: a member's submission and a reserve opened by the operator."""
    name = f"Ga {len(service.client.get(f'{API}/reserves', headers=service.auth('operator')).json())}"
    rows = [{"material": "lithium", "stage": "mine", "year": 2024, "tonnes": 10.0}]
    sub = {"kind": "production", "rows": rows}
    r = service.client.post(f"{API}/submissions", json=sub, headers=service.auth("member_a"))
    assert r.status_code == 201, r.text
    r = service.client.post(f"{API}/reserves", json={"name": name}, headers=service.auth("operator"))
    assert r.status_code == 201, r.text


def test_head_is_the_last_entry_for_the_two_roles(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)
    _write(service)
    with service.store.read() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        count = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    for who in ("secretariat", "operator"):
        r = service.client.get(HEAD, headers=service.auth(who))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body == {
            "seq": last.seq,
            "hash": last.hash,
            "created_at": last.created_at,
            "signature": None,
            "signed": False,
        }
        assert body["seq"] == count >= 8  # six accounts, their tokens, a submission, a reserve
    _write(service)  # the head moves with the chain
    assert service.client.get(HEAD, headers=service.auth("secretariat")).json()["seq"] == count + 2


def test_other_roles_are_refused(service: Service) -> None:
    for who in ("member_a", "participant"):
        r = service.client.get(HEAD, headers=service.auth(who))
        assert r.status_code == 403 and "may not" in r.json()["detail"], (who, r.text)
    assert service.client.get(HEAD).status_code == 401


def test_signed_head_verifies_and_catches_truncation(
    service: Service, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "a key the server holds, apart from the database"
    monkeypatch.setenv(AUDIT_KEY_ENV, key)
    monkeypatch.setenv("CRITMIN_TEST_HEAD_KEY", key)
    _write(service)
    body = service.client.get(HEAD, headers=service.auth("operator")).json()
    mac = hmac.new(
        key.encode(), canonical_json([body["seq"], body["hash"], body["created_at"]]).encode(), hashlib.sha256
    ).hexdigest()
    assert body["signed"] is True and body["signature"] == mac
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(body), encoding="utf-8")
    args = ["audit", "verify", "--database-url", db_url, "--format", "json", "--checkpoint", str(saved)]
    ok = runner.invoke(app, [*args, "--key-env", "CRITMIN_TEST_HEAD_KEY"])
    assert ok.exit_code == 0, ok.output
    monkeypatch.setenv("CRITMIN_TEST_HEAD_KEY", "another key")
    assert runner.invoke(app, [*args, "--key-env", "CRITMIN_TEST_HEAD_KEY"]).exit_code == 1
    monkeypatch.setenv("CRITMIN_TEST_HEAD_KEY", key)
    with service.store.write() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == body["seq"]))
    cut = runner.invoke(app, [*args, "--key-env", "CRITMIN_TEST_HEAD_KEY"])
    assert cut.exit_code == 1 and "tail truncated" in json.loads(cut.stdout)["reason"]


def test_empty_chain_head_is_the_genesis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from critmin.api.routers.audit import audit_head
    from critmin.store import Store
    from critmin.store.members import Principal

    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)
    store = Store(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    store.upgrade()
    out = audit_head(Principal(1, "sec", "secretariat", None), store)
    store.dispose()
    assert (out.seq, out.hash, out.signed) == (0, GENESIS_HASH, False)
