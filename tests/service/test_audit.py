"""`critmin audit verify` checks the chain, the data rows against the digests the chain recorded, and an
exported (HMAC-signed) head checkpoint: it fails on tail truncation, on an edit of a data row, and on a
re-computed chain after a forged edit (each backend)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from typer.testing import CliRunner

from critmin.cli import app
from critmin.store.audit import canonical_json, entry_hash
from critmin.store.audit_rows import row_digest
from critmin.store.models import AuditEntry
from service.support import Service, vault_ops

API = "/api/v1"
runner = CliRunner()
KEY_ENV = "CRITMIN_TEST_AUDIT_KEY"


def _activity(service: Service) -> int:
    """Submissions, a withdrawal, a release, a reserve and its operations, a revoked token."""
    rows = [{"material": "lithium", "stage": "mine", "year": 2024, "tonnes": 10.0}]
    ids = []
    for who in ("member_a", "member_b", "member_c"):
        r = service.client.post(
            f"{API}/submissions", json={"kind": "production", "rows": rows}, headers=service.auth(who)
        )
        ids.append(r.json()["id"])
    sec = service.auth("secretariat")
    assert service.client.post(f"{API}/releases", json={}, headers=sec).status_code == 201
    assert (
        service.client.delete(f"{API}/submissions/{ids[2]}", headers=service.auth("member_c")).status_code
        == 204
    )
    op = service.auth("operator")
    rid = service.client.post(f"{API}/reserves", json={"name": "Ga"}, headers=op).json()["id"]
    for body in vault_ops(5.0):
        assert (
            service.client.post(f"{API}/reserves/{rid}/operations", json=body, headers=op).status_code == 200
        )
    token_id = service.tokens["participant"].split("_")[1]
    assert service.client.delete(f"{API}/tokens/{token_id}", headers=sec).status_code == 204
    return int(ids[0])


def _verify(db_url: str, *extra: str) -> tuple[int, dict[str, object], str]:
    r = runner.invoke(app, ["audit", "verify", "--database-url", db_url, "--format", "json", *extra])
    body = json.loads(r.stdout) if r.stdout.strip() else {}
    return r.exit_code, body, r.stderr


@pytest.fixture
def audited(
    service: Service, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Service, int, Path]:
    monkeypatch.setenv(KEY_ENV, "a secret kept away from the database")
    sid = _activity(service)
    head = tmp_path / "head.json"
    r = runner.invoke(
        app, ["audit", "checkpoint", "--database-url", db_url, "--out", str(head), "--key-env", KEY_ENV]
    )
    assert r.exit_code == 0, r.output
    code, body, _ = _verify(db_url, "--checkpoint", str(head), "--key-env", KEY_ENV)
    assert code == 0 and body["ok"] and int(str(body["rows_checked"])) >= 10, body
    return service, sid, head


def test_tail_truncation_is_detected(audited: tuple[Service, int, Path], db_url: str) -> None:
    service, _, head = audited
    last = json.loads(head.read_text())["seq"]
    with service.store.write() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq > last - 2))
    code, body, err = _verify(db_url, "--checkpoint", str(head), "--key-env", KEY_ENV)
    assert code == 1 and "tail truncated" in str(body["reason"]) and "broken at entry" in err


def test_an_edited_data_row_is_detected(audited: tuple[Service, int, Path], db_url: str) -> None:
    service, sid, _ = audited
    with service.store.write() as s:
        s.execute(text("UPDATE submission_rows SET tonnes = 99 WHERE submission_id = :i"), {"i": sid})
    code, body, _ = _verify(db_url)
    assert code == 1 and body["reason"] == f"data row submission:{sid} edited outside the service"
    with service.store.write() as s:
        s.execute(text("UPDATE submission_rows SET tonnes = 10 WHERE submission_id = :i"), {"i": sid})
        s.execute(text("UPDATE reserves SET version = version + 1"))
    code, body, _ = _verify(db_url)
    assert (
        code == 1 and str(body["reason"]).startswith("data row reserve:") and "edited" in str(body["reason"])
    )


def _forge_and_rechain(service: Service, sid: int) -> None:
    """What an intruder with write access and the code would do: edit the row, fix the entry's digest,
    and re-compute every hash from there on."""
    with service.store.write() as s:
        s.execute(text("UPDATE submission_rows SET tonnes = 99 WHERE submission_id = :i"), {"i": sid})
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        prev = entries[0].prev_hash
        for e in entries:
            if e.rows and f"submission:{sid}" in json.loads(e.rows):
                digests = json.loads(e.rows)
                digests[f"submission:{sid}"] = row_digest(s, f"submission:{sid}")
                e.rows = canonical_json(digests)
            new = entry_hash(e.seq, e.created_at, e.actor, e.action, e.target, e.payload, prev, e.rows)
            s.execute(
                update(AuditEntry)
                .where(AuditEntry.seq == e.seq)
                .values(prev_hash=prev, hash=new, rows=e.rows)
            )
            prev = new


def test_a_rechain_after_a_forged_edit_is_detected_by_the_checkpoint(
    audited: tuple[Service, int, Path], db_url: str, tmp_path: Path
) -> None:
    service, sid, head = audited
    _forge_and_rechain(service, sid)
    code, body, _ = _verify(db_url)
    assert code == 0 and body["ok"]  # without the exported head the forgery is self-consistent (the limit)
    code, body, _ = _verify(db_url, "--checkpoint", str(head), "--key-env", KEY_ENV)
    assert code == 1 and "re-computed" in str(body["reason"])
    forged = tmp_path / "forged.json"  # a checkpoint forged to match needs the key
    r = runner.invoke(app, ["audit", "checkpoint", "--database-url", db_url, "--out", str(forged)])
    assert r.exit_code == 0
    code, body, _ = _verify(db_url, "--checkpoint", str(forged), "--key-env", KEY_ENV)
    assert code == 1 and "signature" in str(body["reason"])
